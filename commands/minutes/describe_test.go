package minutes

import (
	"encoding/json"
	"strings"
	"testing"

	"quorum/record"
)

// TestDescribeElections: contested elections and amendments read as
// sentences in the minutes, with the ballots' digest and the lots' seed.
func TestDescribeElections(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		content map[string]any
		want    []string
	}{
		{"election.ballot", map[string]any{"id": 4, "role": "treasurer", "seats": 1, "candidates": []string{"@a:x", "@b:x"}, "order_seed": "abc", "closes_at": "2026-12-01T18:00:00Z"},
			[]string{"Election #4 (treasurer, 1 seat)", "@a:x, @b:x", "drawn from abc"}},
		{"election.result", map[string]any{"id": 4, "role": "treasurer", "seats": 1, "status": "decided", "ranked": 9, "electorate": 10,
			"elected": []string{"@b:x"}, "quota": 5, "method": "Scottish STV", "ballots_sha256": "d00d", "seed": "beef"},
			[]string{"decided; 9 of 10 ranked", "Elected @b:x; quota 5", "SHA-256 d00d", "seeded by beef"}},
		{"election.result", map[string]any{"id": 5, "role": "secretary", "seats": 2, "status": "cancelled", "why": "no quorum: 1 of 4 ranked, quorum 2"},
			[]string{"cancelled", "no quorum"}},
		{"motion.amended", map[string]any{"motion": 3, "amendment": 4, "votes_cleared": 2, "old_text": "Buy a kettle", "new_text": "Buy two"},
			[]string{"Motion #3 amended by amendment #4; 2 votes cleared", "Was: Buy a kettle", "Now: Buy two"}},
	} {
		data, _ := json.Marshal(tc.content)
		got := describeEntry("en", record.Entry{Kind: tc.kind, Content: data})
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.kind, got, w)
			}
		}
	}
}

// TestDescribeInSpanish: the sentences follow the room's language, the
// recorded reason of a cancelled election and the method's name included.
func TestDescribeInSpanish(t *testing.T) {
	for _, tc := range []struct {
		content map[string]any
		want    string
	}{
		{map[string]any{"id": 5, "role": "secretary", "seats": 2, "status": "cancelled", "why": "no quorum: 1 of 4 ranked, quorum 2"},
			"Elección #5 (secretary, 2 puestos): anulada; votaron 0 de 0. sin quórum: votaron 1 de 4, quórum 2."},
		{map[string]any{"id": 4, "role": "treasurer", "seats": 1, "status": "decided", "ranked": 9, "electorate": 10,
			"elected": []string{"@b:x"}, "quota": 5, "method": "Scottish STV (SSI 2007/42), Droop quota"},
			"Elección #4 (treasurer, 1 puesto): decidida; votaron 9 de 10. Personas elegidas: @b:x; cuota 5; STV escocés (SSI 2007/42), cuota Droop."},
	} {
		data, _ := json.Marshal(tc.content)
		if got := describeEntry("es", record.Entry{Kind: "election.result", Content: data}); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
