package bot_test

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/record"
	"quorum/store"
	"quorum/testkit"
)

var receiptRE = regexp.MustCompile("receipt code is `([2-9A-Z]{10})`")

// TestSecretBallotEndToEnd: ballots go out by DM, a reaction is refused
// privately, votes are cast by DM with receipts, the result lists the
// receipts, and the database holds no link between a member and a choice.
func TestSecretBallotEndToEnd(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	botID := b.Client().UserID
	cs[0].Say(r, "!motion --secret --closes 1h Strike on Friday")
	notice := findNotice(cs[0], r, botID, "Motion #1")

	choices := []string{"yes", "no", "yes"}
	codes := map[id.UserID]string{}
	for i, c := range cs {
		ballot := c.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
			return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #1")
		})
		if i == 1 {
			c.React(r, notice.ID, "👍", true)
			c.WaitFor(wait, "the refusal of a reaction", func(evt *event.Event) bool {
				return testkit.IsNotice(evt, ballot.RoomID, botID, "is a secret ballot")
			})
		}
		receipt := c.Ask(ballot.RoomID, "!vote 1 "+choices[i])
		m := receiptRE.FindStringSubmatch(receipt.Content.AsMessage().Body)
		if m == nil || receipt.Content.Raw["quorum.receipt"] == nil {
			t.Fatalf("%s: no receipt in %q", c.UserID, receipt.Content.AsMessage().Body)
		}
		codes[c.UserID] = m[1]
	}
	result := findNotice(cs[0], r, botID, "Motion #1: Carried 2–1")
	f, _ := result.Content.Raw["quorum.motion"].(map[string]any)
	receipts, _ := f["receipts"].(map[string]any)
	for i, c := range cs {
		if receipts[codes[c.UserID]] != choices[i] {
			t.Errorf("%s's receipt %s shows %v, want %s", c.UserID, codes[c.UserID], receipts[codes[c.UserID]], choices[i])
		}
	}
	if result.Content.Raw["quorum.record"] == nil {
		t.Error("the result carries no record head")
	}
	b.Stop()
	assertNoLink(t, b.Config.Database, codes)
}

// assertNoLink reads every row of every Quorum table and fails if one holds
// a member's ID and that member's receipt code without the others' (which
// would tie the member to a choice).
func assertNoLink(t *testing.T, path string, codes map[id.UserID]string) {
	t.Helper()
	db, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Query("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'crypto_%' AND name NOT LIKE 'mx_%'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		_ = tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	checked := 0
	for _, table := range names {
		rows, err := db.Query(fmt.Sprintf("SELECT * FROM %q", table))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := fmt.Sprint(vals...)
			inRow := 0
			for _, code := range codes {
				if strings.Contains(row, code) {
					inRow++
				}
			}
			checked += inRow
			// A row with every code is the published result; a row with one
			// code and its voter would be a link.
			for user, code := range codes {
				if inRow < len(codes) && strings.Contains(row, user.String()) && strings.Contains(row, code) {
					t.Errorf("table %s links %s to their ballot: %s", table, user, row)
				}
			}
		}
		rows.Close()
	}
	if checked < len(codes) {
		t.Fatalf("found only %d rows with receipt codes: the check looked in the wrong place", checked)
	}
}

// TestMinutesAndKey: !key gives the signing key; !minutes posts an
// encrypted attachment that decrypts to minutes whose signature and chain
// verify with that key.
func TestMinutesAndKey(t *testing.T) {
	t.Parallel()
	_, b, r, ana, ben := anaAndBen(t)
	botID := b.Client().UserID
	for i, text := range []string{"Buy a banner", "Hold a picnic"} {
		ana.Say(r, "!motion "+text)
		findNotice(ana, r, botID, fmt.Sprintf("Motion #%d", i+1))
		ana.Say(r, fmt.Sprintf("!vote %d yes", i+1))
		ben.Say(r, fmt.Sprintf("!vote %d no", i+1))
		findNotice(ana, r, botID, fmt.Sprintf("Motion #%d: Failed 1–1", i+1))
	}
	keyReply := ana.Ask(r, "!key")
	armored, _ := keyReply.Content.Raw["quorum.key"].(map[string]any)["armored"].(string)
	if !strings.Contains(armored, "BEGIN PGP PUBLIC KEY BLOCK") {
		t.Fatalf("!key gave no armored key: %v", keyReply.Content.Raw)
	}
	cmd := ana.Say(r, "!minutes")
	file := ana.WaitFor(wait, "the minutes", func(evt *event.Event) bool {
		return testkit.IsReply(evt, r, cmd) && evt.Content.AsMessage().MsgType == event.MsgFile
	})
	if file.Content.AsMessage().URL != "" {
		t.Fatal("the minutes were uploaded unencrypted")
	}
	data, err := ana.Download(file)
	if err != nil {
		t.Fatal(err)
	}
	report, err := record.VerifyMinutes(data, []byte(armored))
	if err != nil {
		t.Fatalf("minutes do not verify: %v", err)
	}
	if report.Entries != 2 || !strings.Contains(string(data), "Hold a picnic") {
		t.Errorf("report = %+v", report)
	}
}
