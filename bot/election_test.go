package bot_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/stv"
	"quorum/testkit"
)

// TestContestedElectionEndToEnd: nine members. Election #1, one seat among
// ana, ben and chi: first preferences ana 4, ben 3, chi 2, and chi's voters
// put ben next, so ana, the plurality leader, loses to ben after chi's
// exclusion (quota 5). Election #2, two seats: ana's surplus goes to chi,
// ben is excluded, ana and chi are elected; the bot restarts in the middle
// of the ranking. Each result comes with the anonymised ballots as an
// encrypted BLT attachment that counts the same, and the elected take
// office.
func TestContestedElectionEndToEnd(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Start()
	names := []string{"ana", "ben", "chi", "dan", "eve", "fay", "gus", "hal", "ivy"}
	r, cs := assembly(t, s, b, names...)
	member := map[string]*testkit.Client{}
	for i, n := range names {
		member[n] = cs[i]
	}
	ana := member["ana"]
	botID := b.Client().UserID
	uid := func(n string) string { return "@" + n + ":" + s.ServerName }

	// notice waits for the bot's notice in the room that says all of parts.
	notice := func(parts ...string) *event.Event {
		t.Helper()
		return ana.WaitFor(wait, strings.Join(parts, " … "), func(evt *event.Event) bool {
			if !testkit.IsNotice(evt, r, botID, parts[0]) || evt.Content.AsMessage().RelatesTo.GetReplaceID() != "" {
				return false
			}
			for _, p := range parts[1:] {
				if !strings.Contains(evt.Content.AsMessage().Body, p) {
					return false
				}
			}
			return true
		})
	}
	// elect runs election n up to its ballot, with ana, ben and chi standing.
	ballots := map[int]id.EventID{}
	elect := func(n int, cmd string) {
		t.Helper()
		ana.Say(r, cmd)
		notice("Election #"+itoa(n)+" ", "Nominations are open")
		for _, c := range []string{"ana", "ben", "chi"} {
			member[c].Say(r, "!nominate "+itoa(n)+" "+uid(c))
			notice(uid(c)+" stands as", "election #"+itoa(n)+".")
		}
		ana.Say(r, "!ballot "+itoa(n))
		ballots[n] = notice("Election #"+itoa(n)+" ", "The ballot").ID
	}
	rank := func(n int, who, ranking string) {
		t.Helper()
		if got := member[who].Ask(r, "!rank "+itoa(n)+" "+ranking).Content.AsMessage().Body; !strings.Contains(got, "Your ranking in election #"+itoa(n)) {
			t.Fatalf("%s ranking: %q", who, got)
		}
	}
	result := func(n int) (*event.Event, []byte) {
		t.Helper()
		res := notice("Election #"+itoa(n)+" (", "Stage 1")
		file := ana.WaitFor(wait, "the ballots", func(evt *event.Event) bool {
			return evt.RoomID == r && evt.Sender == botID && evt.Content.AsMessage().MsgType == event.MsgFile &&
				evt.Content.AsMessage().FileName == "election-"+itoa(n)+".blt"
		})
		if file.Content.AsMessage().URL != "" {
			t.Fatal("the ballots were uploaded unencrypted")
		}
		data, err := ana.Download(file)
		if err != nil {
			t.Fatal(err)
		}
		return res, data
	}
	electedOf := func(evt *event.Event) []id.UserID {
		f, _ := evt.Content.Raw["quorum.election"].(map[string]any)
		var out []id.UserID
		list, _ := f["elected"].([]any)
		for _, u := range list {
			out = append(out, id.UserID(u.(string)))
		}
		return out
	}

	elect(1, "!election treasurer --term 30d : Keep the strike fund's books")
	for who, ranking := range map[string]string{
		"ana": uid("ana"), "dan": uid("ana"), "eve": uid("ana"), "fay": uid("ana"),
		"ben": uid("ben"), "gus": uid("ben"), "hal": uid("ben"),
		"chi": uid("chi") + " " + uid("ben"), "ivy": uid("chi") + " " + uid("ben"),
	} {
		rank(1, who, ranking)
	}
	res, data := result(1)
	if got := electedOf(res); !slices.Equal(got, []id.UserID{id.UserID(uid("ben"))}) {
		t.Fatalf("election #1 elected %v:\n%s", got, res.Content.AsMessage().Body)
	}
	if !strings.Contains(res.Content.AsMessage().Body, "Stage 2") || res.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Errorf("result:\n%s", res.Content.AsMessage().Body)
	}
	checkBLT(t, data, 9, uid("ben"))
	ana.WaitFor(wait, "the ballot notice's final edit", func(evt *event.Event) bool {
		return isEditOf(evt, ballots[1], "elected "+uid("ben"))
	})
	findNotice(ana, r, botID, uid("ben")+" is now treasurer")
	member["ben"].WaitFor(wait, "the mandate by DM", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "You were elected treasurer")
	})

	// Two seats; a restart in the middle of the ranking.
	elect(2, "!election negotiator --seats 2 : Negotiate the rota")
	for _, who := range []string{"ana", "dan", "eve", "fay", "gus"} {
		rank(2, who, "@ana @chi")
	}
	b.Stop()
	b.Start()
	rank(2, "ben", "@ben")
	rank(2, "hal", "@ben")
	rank(2, "chi", "@chi")
	rank(2, "ivy", "@chi")
	res, data = result(2)
	if got := electedOf(res); !slices.Equal(got, []id.UserID{id.UserID(uid("ana")), id.UserID(uid("chi"))}) {
		t.Fatalf("election #2 elected %v:\n%s", got, res.Content.AsMessage().Body)
	}
	checkBLT(t, data, 9, uid("ana"), uid("chi"))
	findNotice(ana, r, botID, uid("chi")+" is now negotiator")
	if n := len(ana.Notices(r, botID, "Election #2 (negotiator): elected")); n != 1 {
		t.Errorf("the result of #2 was said %d times", n)
	}
}

// checkBLT reads the anonymised ballots, checks that they name no voter
// but the candidates, and recounts them.
func checkBLT(t *testing.T, data []byte, ballots int, elected ...string) {
	t.Helper()
	b, err := stv.ReadBLT(bytes.NewReader(data))
	if err != nil || len(b.Ballots) != ballots {
		t.Fatalf("BLT (%v):\n%s", err, data)
	}
	for _, voter := range []string{"@dan:", "@eve:", "@fay:", "@gus:", "@hal:", "@ivy:"} {
		if bytes.Contains(data, []byte(voter)) {
			t.Fatalf("the BLT names %s:\n%s", voter, data)
		}
	}
	res, err := stv.Count(b.Election("recount"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range res.Elected {
		got = append(got, b.Candidates[i])
	}
	if !slices.Equal(got, elected) {
		t.Fatalf("the recount elects %v, want %v", got, elected)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSecretContestedElectionEndToEnd: the ballot reaches each member in an
// encrypted direct chat; each ranks there and gets a receipt; a ranking in
// the room is refused; the result lists every receipt with its ranking; no
// row of the database ties a member to a receipt.
func TestSecretContestedElectionEndToEnd(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	botID := b.Client().UserID
	uid := func(c *testkit.Client) string { return c.UserID.String() }
	ana := cs[0]
	ana.Say(r, "!election treasurer --secret : Keep the books")
	findNotice(ana, r, botID, "Nominations are open")
	for _, c := range cs {
		c.Say(r, "!nominate 1 "+uid(c))
		findNotice(ana, r, botID, uid(c)+" stands as")
	}
	ana.Say(r, "!ballot 1")
	findNotice(ana, r, botID, "Secret ballot")
	if got := ana.Ask(r, "!rank 1 "+uid(cs[1])).Content.AsMessage().Body; !strings.Contains(got, "rank in your direct chat") {
		t.Fatalf("a ranking in the room: %q", got)
	}
	rankings := []string{uid(cs[1]), uid(cs[1]), uid(cs[2]) + " " + uid(cs[1])}
	codes := map[id.UserID]string{}
	for i, c := range cs {
		ballot := c.WaitFor(wait, "the ballot", func(evt *event.Event) bool {
			return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: election #1")
		})
		if ballot.Mautrix.EventSource&event.SourceDecrypted == 0 {
			t.Fatal("the ballot was not encrypted")
		}
		f, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)
		code, _ := f["code"].(string)
		receipt := c.Ask(ballot.RoomID, "!rank "+code+" "+rankings[i])
		rf, _ := receipt.Content.Raw["quorum.receipt"].(map[string]any)
		codes[c.UserID], _ = rf["code"].(string)
		if codes[c.UserID] == "" {
			t.Fatalf("%s: no receipt in %q", c.UserID, receipt.Content.AsMessage().Body)
		}
	}
	result := ana.WaitFor(wait, "the result", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, r, botID, "Election #1 (treasurer): elected") && strings.Contains(evt.Content.AsMessage().Body, "Receipts")
	})
	body := result.Content.AsMessage().Body
	for i, c := range cs {
		if !strings.Contains(body, codes[c.UserID]+": "+strings.ReplaceAll(rankings[i], " ", ", ")) &&
			!strings.Contains(body, codes[c.UserID]+": "+strings.ReplaceAll(rankings[i], " ", " and ")) {
			t.Errorf("%s's receipt %s with %s is not in the result:\n%s", c.UserID, codes[c.UserID], rankings[i], body)
		}
	}
	if !strings.Contains(body, "elected "+uid(cs[1])) {
		t.Errorf("result:\n%s", body)
	}
	findNotice(ana, r, botID, uid(cs[1])+" is now treasurer")
	b.Stop()
	assertNoLink(t, b.Config.Database, codes)
}
