package elections

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/motions"
	"quorum/store"
	"quorum/stv"
)

// Five more members, for electorates where transfers matter.
const (
	Eve = id.UserID("@eve:test")
	Fay = id.UserID("@fay:test")
	Gus = id.UserID("@gus:test")
	Hal = id.UserID("@hal:test")
	Ivy = id.UserID("@ivy:test")
)

var nine = []id.UserID{Ana, Ben, Chi, Dan, Eve, Fay, Gus, Hal, Ivy}

func newHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	h := NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		m := motions.New(env, log)
		d := motions.NewDelegates(m)
		return []commands.Feature{m, d, New(m, d, log)}
	}, members...)
	h.Rooms.Power[Ana] = 50
	h.Env.Config.Motions.Settle = "0s" // TestSettle has the default
	return h
}

// field returns quorum.election of s.
func field(t *testing.T, s Sent) map[string]any {
	t.Helper()
	f, ok := s.Msg.Fields["quorum.election"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.election in %q: %v", s.Msg.Body, s.Msg.Fields)
	}
	return f
}

func users(t *testing.T, v any) []id.UserID {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%v is not a list", v)
	}
	var out []id.UserID
	for _, x := range list {
		out = append(out, id.UserID(x.(string)))
	}
	return out
}

// openVote opens election #n with candidates (each standing by
// self-nomination) and returns the ballot order.
func openVote(t *testing.T, h *Harness, n int, candidates ...id.UserID) []id.UserID {
	t.Helper()
	for _, c := range candidates {
		Expect(t, h, c, fmt.Sprintf("!nominate %d %s", n, c), "stands as")
	}
	out := h.SendAndDrain(Ana, fmt.Sprintf("!ballot %d", n))
	notice := One(t, out, "The ballot")
	f := field(t, notice)
	if f["status"] != "voting" {
		t.Fatalf("status %v", f["status"])
	}
	if _, ok := notice.Msg.Fields["quorum.record"]; !ok {
		t.Fatal("the ballot order is not recorded")
	}
	order := users(t, f["candidates"])
	if !strings.Contains(notice.Msg.Body, numbered(order)) {
		t.Fatalf("the notice does not number the ballot %v:\n%s", order, notice.Msg.Body)
	}
	return order
}

// numbered is the ballot as its notice and its DM list it: a line each,
// numbered from 1.
func numbered(order []id.UserID) string {
	var b strings.Builder
	for i, u := range order {
		fmt.Fprintf(&b, "\n%d. %s", i+1, u)
	}
	return b.String() + "\n"
}

// TestOneSeatLeaderLosesAfterTransfers: nine members, one seat among Ana,
// Ben and Chi. First preferences Ana 4, Ben 3, Chi 2; Chi's voters put Ben
// next, so after Chi's exclusion Ben has 5, the quota, and wins.
func TestOneSeatLeaderLosesAfterTransfers(t *testing.T) {
	h := newHarness(t, nine...)
	out := h.SendAndDrain(Ana, "!election treasurer --term 30d : Keep the strike fund's books")
	f := field(t, One(t, out, "Nominations are open"))
	if f["id"] != float64(1) || f["status"] != "nominations" || f["role"] != "treasurer" || f["seats"] != float64(1) {
		t.Fatalf("quorum.election %v", f)
	}

	// Chi is nominated by Ben and must accept; Ben stands himself.
	out = h.SendAndDrain(Ben, "!nominate 1 @chi:test")
	if n := One(t, out, "Accept with"); !slices.Contains(n.Msg.Mentions, Chi) || len(users(t, field(t, n)["candidates"])) != 0 {
		t.Fatalf("nomination %+v", n.Msg)
	}
	Expect(t, h, Chi, "!accept 1", "accepts and stands")
	Expect(t, h, Chi, "!accept 1", "already accepted")
	Expect(t, h, Dan, "!accept 1", "not nominated")
	Expect(t, h, Dan, "!nominate 1 @chi:test", "already nominated")
	Expect(t, h, Dan, "!ballot 1", "Only a room moderator")
	order := openVote(t, h, 1, Ana, Ben)
	if len(order) != 3 || !slices.Contains(order, Ana) || !slices.Contains(order, Ben) || !slices.Contains(order, Chi) {
		t.Fatalf("ballot %v", order)
	}
	Expect(t, h, Dan, "!nominate 1 @dan:test", "closed")
	Expect(t, h, Dan, "!vote 1 yes", "is a contested election")

	pos := func(u id.UserID) string { return fmt.Sprint(slices.Index(order, u) + 1) }
	// Ballot numbers, Matrix IDs, @localparts: all the same.
	ballots := map[id.UserID]string{
		Ana: "@ana:test", Dan: pos(Ana), Eve: "@ana", Fay: "@ana:test @ben:test",
		Ben: "@ben:test", Gus: pos(Ben), Hal: "@ben @chi",
		Chi: "@chi:test @ben:test", Ivy: pos(Chi) + " " + pos(Ben),
	}
	Expect(t, h, Ivy, "!rank 1 @chi:test @chi:test", "twice")
	Expect(t, h, Ivy, "!rank 1 @dan:test", "not a candidate")
	Expect(t, h, Ivy, "!rank 1 4", "there is no 4")
	Expect(t, h, Ivy, "!rank 1", "had not ranked")
	Expect(t, h, Hal, "!rank 1 @ana @chi", "Your ranking in election #1: 1. @ana:test, 2. @chi:test. Your latest ranking counts")
	Expect(t, h, Hal, "!rank 1", "withdrawn")
	// Rankings are not recorded: the head now is the head at the close.
	head, err := h.Env.Store.Records().Head(context.Background(), Room)
	if err != nil || head == nil {
		t.Fatalf("record head %v %v", head, err)
	}
	var last []Sent
	for i, u := range nine {
		cmd := "!rank 1 " + ballots[u]
		if i < len(nine)-1 {
			Expect(t, h, u, cmd, "Your ranking in election #1")
			continue
		}
		last = h.SendAndDrain(u, cmd)
	}
	result := resultOf(t, last, "Stage 1")
	// The lots are drawn from the chain head at the close, shown short.
	if want := "Lots, if any, drawn from " + head.Hash[:16] + "….\n"; !strings.Contains(result.Msg.Body, want) {
		t.Errorf("the result does not say %q:\n%s", want, result.Msg.Body)
	}
	// Stage 1 only counts; stage 2 excludes Chi and elects Ben. The one
	// seat is filled, and an open ballot has no receipts.
	stages := stageLines(result.Msg.Body)
	if len(stages) != 2 || strings.Contains(stages[0], " — ") ||
		!strings.HasSuffix(stages[1], " — excluded @chi:test — elected @ben:test") ||
		strings.Contains(result.Msg.Body, "stay empty") || strings.Contains(result.Msg.Body, "Receipts") {
		t.Errorf("result:\n%s", result.Msg.Body)
	}
	rf := field(t, result)
	if rf["status"] != "decided" || !slices.Equal(users(t, rf["elected"]), []id.UserID{Ben}) || rf["quota"] != float64(5) {
		t.Fatalf("result %v\n%s", rf, result.Msg.Body)
	}
	rounds := rf["rounds"].([]any)
	if len(rounds) != 2 {
		t.Fatalf("rounds %v", rounds)
	}
	r1 := rounds[0].(map[string]any)["counts"].(map[string]any)
	r2 := rounds[1].(map[string]any)
	if r1[string(Ana)] != float64(4) || r1[string(Ben)] != float64(3) || r1[string(Chi)] != float64(2) ||
		!slices.Equal(users(t, r2["excluded"]), []id.UserID{Chi}) || r2["counts"].(map[string]any)[string(Ben)] != float64(5) {
		t.Fatalf("rounds %v", rounds)
	}
	if _, ok := result.Msg.Fields["quorum.record"]; !ok || !strings.Contains(result.Msg.Body, "Stage 2") ||
		!strings.Contains(result.Msg.Body, "transferred the papers of excluded @chi:test: @ben:test +2, non-transferable +0") {
		t.Fatalf("result %q", result.Msg.Body)
	}

	// The ballots, anonymised, in BLT: they count the same with stv.
	var file Sent
	for _, s := range last {
		if s.Kind == commands.KindFile {
			file = s
		}
	}
	if file.Kind == "" {
		t.Fatalf("no BLT file in%s", Bodies(last))
	}
	var f2 struct {
		Name string
		Data []byte
	}
	decodeFile(t, file, &f2)
	b, err := stv.ReadBLT(bytes.NewReader(f2.Data))
	if err != nil || len(b.Ballots) != 9 || f2.Name != "election-1.blt" {
		t.Fatalf("%s: %v, %d ballots", f2.Name, err, len(b.Ballots))
	}
	for _, u := range nine {
		if u != Ana && u != Ben && u != Chi && bytes.Contains(f2.Data, []byte(u)) {
			t.Fatalf("the BLT names voter %s", u)
		}
	}
	sum := sha256.Sum256(f2.Data)
	if rf["closes_at"] == "" || !strings.Contains(string(file.Payload), hex.EncodeToString(sum[:])) {
		t.Fatal("the file's caption does not give its digest")
	}
	recount, _ := stv.Count(b.Election("any seed"))
	if b.Candidates[recount.Elected[0]] != string(Ben) {
		t.Fatalf("recount elects %v", recount.Elected)
	}

	// Ben takes office as an elected delegate does.
	if len(Saying(last, "is now treasurer")) != 1 {
		t.Fatalf("no mandate in%s", Bodies(last))
	}
	dm := false
	for _, s := range last {
		if s.DMUser == Ben && strings.Contains(s.Msg.Body, "You were elected treasurer") {
			dm = true
		}
	}
	if !dm {
		t.Fatalf("no mandate DM in%s", Bodies(last))
	}
	active, err := h.Env.Store.Delegations().Active(context.Background(), Room)
	if err != nil || len(active) != 1 || active[0].User != Ben || active[0].Role != "treasurer" ||
		active[0].TermEnds.Sub(active[0].Since) != 30*24*time.Hour {
		t.Fatalf("delegations %+v %v", active, err)
	}
	// The election keeps its result after the mandate was given.
	m, _, _ := h.Env.Store.Motions().ByNumber(context.Background(), Room, 1)
	if p, err := decode(m); err != nil || p.Result == nil || m.Status != store.ElectionDecided {
		t.Fatalf("payload %q", m.Payload)
	}

	// Elections and motions share the room's numbering.
	if len(Saying(h.SendAndDrain(Dan, "!motion Buy a kettle"), "Motion #2")) != 1 {
		t.Fatal("the next motion is not #2")
	}
	Expect(t, h, Dan, "!rank 1 1", "not open for ranking")
}

func decodeFile(t *testing.T, s Sent, into any) {
	t.Helper()
	if err := json.Unmarshal(s.Payload, into); err != nil {
		t.Fatal(err)
	}
}

// TestTwoSeats: a surplus is transferred at its fractional value, and two
// take office.
func TestTwoSeats(t *testing.T) {
	h := newHarness(t, nine...)
	h.SendAndDrain(Ana, "!election negotiator --seats 2 : Negotiate the rota")
	openVote(t, h, 1, Ana, Ben, Chi)
	// 9 ballots, 2 seats: quota 4. Ana 6, Ben 2, Chi 1. Ana's surplus of 2
	// goes on at 2/6 = 0.33333 a paper; three of them name Chi next, so Chi
	// has 1.99999 and is excluded; Ivy's paper gives Ben 3, and Ben, the
	// only one left, takes the second seat.
	ranks := map[id.UserID]string{
		Ana: "@ana @chi", Ben: "@ana @chi", Chi: "@ana @chi", Dan: "@ana", Eve: "@ana", Fay: "@ana",
		Gus: "@ben", Hal: "@ben", Ivy: "@chi @ben",
	}
	var last []Sent
	for _, u := range nine {
		last = h.SendAndDrain(u, "!rank 1 "+ranks[u])
	}
	res := resultOf(t, last, "Stage 1")
	rf := field(t, res)
	if !strings.Contains(res.Msg.Body, "transferred the surplus of @ana:test: @chi:test +0.99999, non-transferable +0.99999, lost to rounding 0.00002") {
		t.Errorf("no transfers in:\n%s", res.Msg.Body)
	}
	if r0 := rf["rounds"].([]any)[0].(map[string]any); len(r0) != 3 {
		t.Errorf("quorum.election rounds carry %v, want counts, elected, excluded", r0)
	}
	if got := users(t, rf["elected"]); !slices.Equal(got, []id.UserID{Ana, Ben}) {
		t.Fatalf("elected %v", got)
	}
	if len(Saying(last, "is now negotiator")) != 2 {
		t.Fatalf("mandates:%s", Bodies(last))
	}
	r2 := rf["rounds"].([]any)[1].(map[string]any)["counts"].(map[string]any)
	if r2[string(Chi)] != 1.99999 || r2[string(Ana)] != float64(4) {
		t.Fatalf("stage 2 %v", r2)
	}
}

// TestDeadlines: nominations that end with too few candidates stay open;
// with enough the vote opens; a vote without quorum is cancelled.
func TestDeadlines(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	h.Env.Config.StandingOrders.Quorum = "50%"
	h.SendAndDrain(Ana, "!election secretary --seats 2 --nominations 2h --closes 3d : Take the minutes")
	Expect(t, h, Ana, "!nominate 1 @ana:test", "stands")
	start := h.Clock.Now()
	if next := h.Due(); !next.Equal(start.Add(2 * time.Hour)) {
		t.Fatalf("next due %v, want the end of the nominations", next)
	}
	out := h.AdvanceTo(start.Add(2 * time.Hour))
	if len(Saying(out, "nominations stay open")) != 1 {
		t.Fatalf("at the deadline:%s", Bodies(out))
	}
	Expect(t, h, Ana, "!ballot 1", "stay open until there are enough")
	Expect(t, h, Ben, "!nominate 1 @ben:test", "stands")
	out = h.AdvanceTo(start.Add(26 * time.Hour))
	notice := One(t, out, "The ballot")
	f := field(t, notice)
	closes, _ := time.Parse(time.RFC3339, f["closes_at"].(string))
	if want := start.Add(26*time.Hour + 72*time.Hour); !closes.Equal(want) {
		t.Fatalf("closes %v, want %v", closes, want)
	}
	Expect(t, h, Ana, "!rank 1 @ben", "Your ranking")
	// The ballot notice shows the turnout, edited a moment later.
	if edit := One(t, h.AdvanceTo(h.Clock.Now().Add(5*time.Second)), "1 of 4 ranked"); edit.Msg.Edit == nil {
		t.Fatalf("not an edit: %+v", edit.Msg)
	}
	// A ranking sent after the deadline is refused, even before the close
	// is handled.
	h.Clock.Advance(closes.Sub(h.Clock.Now()) + time.Minute)
	Expect(t, h, Ben, "!rank 1 @ana", "not open for ranking")
	h.Due()
	out = h.Drain()
	res := resultOf(t, out, "cancelled")
	if field(t, res)["status"] != "cancelled" || !strings.Contains(res.Msg.Body, "no quorum") {
		t.Fatalf("%s", res.Msg.Body)
	}
	for _, s := range out {
		if s.Kind == commands.KindFile {
			t.Fatal("a BLT without a count")
		}
	}
}

func TestRefusals(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!election treasurer --secert : Books", Want: "Did you mean `--secret`?"},
		{From: Ana, Cmd: "!election treasurer", Want: "after a colon"},
		{From: Ana, Cmd: "!election two words : Books", Want: "one word"},
		{From: Ana, Cmd: "!election treasurer --seats 0 : Books", Want: "from 1 to"},
		{From: Ana, Cmd: "!election treasurer --term 2y : Books", Want: "365 days"},
		{From: Ana, Cmd: "!election treasurer --closes 13:00 --nominations 2h : Books", Want: "before the nominations end"},
		{From: Ana, Cmd: "!election treasurer --colour red : Books", Want: "don't know"},
		{From: Ana, Cmd: "!nominate 9 @ana:test", Want: "no contested election #9"},
		{From: Ana, Cmd: "!rank x", Want: "by its number"},
	})
	if len(Saying(h.SendAndDrain(Ana, "!motion Buy a kettle"), "Motion #1")) != 1 {
		t.Fatal("no motion #1")
	}
	Expect(t, h, Ana, "!nominate 1 @ana:test", "no contested election #1")
}

// TestLimits: each limit of !election and !nominate at its boundary, the
// most taken and the least refused.
func TestLimits(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	for _, tc := range []struct{ cmd, want string }{
		{"!election treasurer : " + strings.Repeat("b", maxMandate), "Mandate: bbb"},
		{"!election treasurer : " + strings.Repeat("b", maxMandate+1), "more than 2000 characters is too long"},
		{"!election treasurer --seats 1 : Books", "1 seat as treasurer"},
		{"!election negotiator --seats 50 : Negotiate", "50 seats as negotiator"},
		{"!election negotiator --seats 51 : Negotiate", "`--seats` is a number of seats from 1 to 50."},
		{"!election treasurer --nominations 1m : Books", "Nominations are open until Wed 25 Nov 12:01"},
	} {
		Expect(t, h, Ana, tc.cmd, tc.want)
	}

	// Nominations: the 100th is taken, the 101st refused.
	var many []id.UserID
	for i := range maxCandidates + 1 {
		many = append(many, id.UserID(fmt.Sprintf("@m%03d:test", i)))
	}
	h = newHarness(t, many...)
	h.SendAndDrain(many[0], "!election negotiator --seats 3 : Negotiate")
	for _, u := range many[:maxCandidates] {
		Expect(t, h, u, fmt.Sprintf("!nominate 1 %s", u), "stands as negotiator")
	}
	Expect(t, h, many[maxCandidates], fmt.Sprintf("!nominate 1 %s", many[maxCandidates]), "Election #1 has 100 nominations, the most I take.")
}

// TestAsManyCandidatesAsSeats: a moderator's !ballot opens the vote with
// as many candidates as seats, and the count elects them all.
func TestAsManyCandidatesAsSeats(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.SendAndDrain(Ana, "!election secretary --seats 2 : Take the minutes")
	openVote(t, h, 1, Ben, Chi)
	h.SendAndDrain(Ana, "!rank 1 @ben")
	h.SendAndDrain(Ben, "!rank 1 @ben")
	res := resultOf(t, h.SendAndDrain(Chi, "!rank 1 @ben"), "Stage 1")
	if got := users(t, field(t, res)["elected"]); len(got) != 2 || !slices.Contains(got, Ben) || !slices.Contains(got, Chi) {
		t.Fatalf("elected %v:\n%s", got, res.Msg.Body)
	}
}

// TestSecretElectionsPerDay: a member opens at most maxSecretPerDay secret
// ballots a day in a room, secret motions included (each DMs everyone);
// open elections are not limited.
func TestSecretElectionsPerDay(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, "!motion --secret Buy a kettle")
	h.Clock.Advance(12 * time.Hour)
	Expect(t, h, Ana, "!election treasurer --secret : Books", "Nominations are open")
	Expect(t, h, Ana, "!election secretary --secret : Minutes", "Nominations are open")
	Expect(t, h, Ana, "!election steward --secret : Stewarding", "You have opened 3 secret ballots here in the last day")
	Expect(t, h, Ana, "!election steward : Stewarding", "Nominations are open")
	// The secret motion's day is over: one more.
	h.Clock.Advance(12*time.Hour + time.Minute)
	Expect(t, h, Ana, "!election steward --secret : Stewarding", "Nominations are open")
	Expect(t, h, Ana, "!election chair --secret : Chairing", "You have opened 3 secret ballots")
}

// TestBallotOrder is recomputable: SHA-256 of seed, number and user ID.
func TestBallotOrder(t *testing.T) {
	cands := []id.UserID{Ana, Ben, Chi, Dan}
	got := BallotOrder("head", 3, cands)
	want := slices.Clone(cands)
	digest := func(u id.UserID) string {
		s := sha256.Sum256([]byte("head\n3\n" + string(u)))
		return hex.EncodeToString(s[:])
	}
	slices.SortFunc(want, func(a, b id.UserID) int { return strings.Compare(digest(a), digest(b)) })
	if !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

// TestAcceptByReaction: ✅ from the nominee on the request accepts; from
// anyone else, or another emoji, nothing.
func TestAcceptByReaction(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.SendAndDrain(Ana, "!election treasurer : Books")
	req := One(t, h.SendAndDrain(Ana, "!nominate 1 @ben:test"), "Accept with")
	h.React(Chi, req.EventID, "✅")
	h.React(Ben, req.EventID, "👍")
	if out := h.Drain(); len(out) != 0 {
		t.Fatalf("accepted by someone else:%s", Bodies(out))
	}
	h.React(Ben, req.EventID, "✅\ufe0f")
	f := field(t, One(t, h.Drain(), "accepts and stands"))
	if got := users(t, f["candidates"]); !slices.Equal(got, []id.UserID{Ben}) {
		t.Fatalf("candidates %v", got)
	}
	h.React(Ben, req.EventID, "✅")
	if out := h.Drain(); len(out) != 0 {
		t.Fatalf("accepted twice:%s", Bodies(out))
	}
}

// TestShow: `!election N` shows an election in any phase, and the motions'
// commands send whoever names it there.
func TestShow(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, "!election treasurer : Books")
	Expect(t, h, Ben, "!election 1", "Nominations are open")
	Expect(t, h, Ben, "!motion 1", "is a contested election")
	Expect(t, h, Ben, "!close 1", "`!election 1` shows it")
	Expect(t, h, Ben, "!withdraw 1", "is a contested election")
	openVote(t, h, 1, Ana, Ben)
	// One seat: instant-runoff; the example ranks both, the last first.
	if got := h.Reply(Ben, "!election 1"); !strings.Contains(got, "Rank as many as you like, your favourite first: `!rank 1 2 1`") ||
		!strings.Contains(got, "Counted by Scottish STV (Droop quota), instant-runoff for one seat · quorum") {
		t.Errorf("ballot notice %q", got)
	}
	h.SendAndDrain(Ana, "!rank 1 @ana")
	h.SendAndDrain(Ben, "!rank 1 @ana")
	Expect(t, h, Ben, "!election 1", "Stage 1")
}

// TestNotice: the notice of an election of several seats through its
// phases: the term, the candidates who accepted so far, the ballot
// numbered, an example of three ranks, no instant-runoff.
func TestNotice(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	notice := One(t, h.SendAndDrain(Ana, "!election negotiator --seats 2 --term 30d : Negotiate the rota"), "Nominations are open")
	if body := notice.Msg.Body; !strings.HasPrefix(body, "Election #1 (@ana:test): 2 seats as negotiator, term 30 days.\n") ||
		strings.Contains(body, "Candidates so far") {
		t.Errorf("opening notice %q", body)
	}
	Expect(t, h, Ana, "!nominate 1 @ana:test", "stands as")
	One(t, h.SendAndDrain(Ana, "!nominate 1 @ben:test"), "Accept with")
	Expect(t, h, Chi, "!election 1", "\nCandidates so far: @ana:test.")
	Expect(t, h, Ben, "!accept 1", "accepts and stands")
	order := openVote(t, h, 1, Chi, Dan)
	if len(order) != 4 {
		t.Fatalf("ballot %v", order)
	}
	got := h.Reply(Chi, "!election 1")
	if !strings.Contains(got, "your favourite first: `!rank 1 4 3 2` or") || !strings.Contains(got, "\nCounted by Scottish STV (Droop quota) · quorum") {
		t.Errorf("ballot notice %q", got)
	}
}

// TestSecret: the ballot comes by DM with a code; rankings are sent there,
// once, each with a padded receipt that says nothing of the ranking; the
// room refuses rankings; the result lists the receipts with the rankings
// counted, and the box is destroyed.
func TestSecret(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	ExpectReplies(t, h, []ReplyCase{{From: Ana, Cmd: "!election treasurer -secret : Books", Want: "Did you mean `--secret`?"}})
	h.SendAndDrain(Ana, "!election treasurer --secret : Books")
	for _, c := range []id.UserID{Ana, Ben, Chi} {
		Expect(t, h, c, fmt.Sprintf("!nominate 1 %s", c), "stands as")
	}
	out := h.SendAndDrain(Ana, "!ballot 1")
	notice := One(t, out, "The ballot")
	f := field(t, notice)
	code, _ := f["ballot_code"].(string)
	if f["secret"] != true || len(code) != store.BallotCodeLen || !strings.Contains(notice.Msg.Body, "Secret ballot") {
		t.Fatalf("notice %v\n%s", f, notice.Msg.Body)
	}
	order := users(t, f["candidates"])
	ballots := 0
	for _, s := range out {
		if s.DMUser != "" {
			ballots++
			if !strings.Contains(s.Msg.Body, "`!rank "+code+" 3 2 1`") || !strings.Contains(s.Msg.Body, numbered(order)) {
				t.Fatalf("ballot %q", s.Msg.Body)
			}
		}
	}
	if ballots != 4 {
		t.Fatalf("%d ballots sent:%s", ballots, Bodies(out))
	}
	Expect(t, h, Ana, "!rank 1 @ana", "rank in your direct chat")

	pos := func(u id.UserID) string { return fmt.Sprint(slices.Index(order, u) + 1) }
	receipt := h.SendDM(Ana, "!rank "+code+" "+pos(Ana))
	first := h.Last[0]
	if !strings.Contains(receipt, "receipt code") || first.Msg.PadTo != receiptPad || strings.Contains(receipt, string(Ana)) {
		t.Fatalf("receipt %q (pad %d)", receipt, first.Msg.PadTo)
	}
	anaCode, _ := first.Msg.Fields["quorum.receipt"].(map[string]any)["code"].(string)
	if got := h.SendDM(Ana, "!rank "+code+" "+pos(Ben)); !strings.Contains(got, "already ranked") {
		t.Fatalf("ranked twice: %q", got)
	}
	if got := h.SendDM(Ben, "!rank 1"); !strings.Contains(got, "can't be withdrawn") {
		t.Fatalf("empty: %q", got)
	}
	if got := h.SendDM(Ben, "!rank ZZZZ 1"); !strings.Contains(got, "no ballot") {
		t.Fatalf("unknown code: %q", got)
	}
	h.SendDM(Ben, "!rank 1 "+pos(Ben)+" "+pos(Ana)) // by election number
	h.SendDM(Chi, "!rank "+strings.ToLower(code)+" "+pos(Chi)+" "+pos(Ben))
	h.SendDM(Dan, "!rank "+code+" "+pos(Ben))
	result := resultOf(t, h.Last, "Stage 1")
	// Ana 1, Ben 2, Chi 1 of 4: quota 3. Ana and Chi tie at the bottom at
	// every stage (a lot); either way Ben reaches 3.
	if got := users(t, field(t, result)["elected"]); !slices.Equal(got, []id.UserID{Ben}) {
		t.Fatalf("elected %v\n%s", got, result.Msg.Body)
	}
	if !strings.Contains(result.Msg.Body, "exclusion tie among") || !strings.Contains(result.Msg.Body, "broken by lot 1") {
		t.Errorf("the lot is not shown:\n%s", result.Msg.Body)
	}
	if !strings.Contains(result.Msg.Body, "Receipts") || !strings.Contains(result.Msg.Body, anaCode+": "+string(Ana)) {
		t.Fatalf("result without Ana's receipt %s:\n%s", anaCode, result.Msg.Body)
	}
	// The record keeps the receipts too.
	if got, _ := recorded(t, h, "election.result")["receipts"].(map[string]any); len(got) != 4 || fmt.Sprint(got[anaCode]) != "["+string(Ana)+"]" {
		t.Errorf("recorded receipts %v, want Ana's %s among 4", got, anaCode)
	}
	m, _, _ := h.Env.Store.Motions().ByNumber(context.Background(), Room, 1)
	if _, err := h.Env.Store.Secret().Rankings(context.Background(), m.ID); err == nil {
		t.Fatal("the box outlived the election")
	}
	Expect(t, h, Ben, "!election 1", "Stage 1")
}

// recorded is the content of the room's latest record entry of kind.
func recorded(t *testing.T, h *Harness, kind string) map[string]any {
	t.Helper()
	entries, err := h.Env.Store.Records().Between(context.Background(), Room, h.Clock.Now().AddDate(-1, 0, 0), h.Clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Kind == kind {
			var content map[string]any
			if err := json.Unmarshal(entries[i].Content, &content); err != nil {
				t.Fatal(err)
			}
			return content
		}
	}
	t.Fatalf("no %s in the record", kind)
	return nil
}

// TestNoQuorumInTheRoomsLanguage: why an election was cancelled is
// recorded in English and shown in the room's language.
func TestNoQuorumInTheRoomsLanguage(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	h.Env.Config.StandingOrders.Quorum = "50%"
	h.SendAndDrain(Ana, "!election treasurer : Books")
	openVote(t, h, 1, Ana, Ben)
	h.SetLang("de")
	h.SendAndDrain(Chi, "!rank 1 @ben")
	res := resultOf(t, h.AdvanceTo(h.Clock.Now().Add(49*time.Hour)), "nicht beschlussfähig: 1 von 4 abgestimmt, Quorum 2")
	if field(t, res)["status"] != "cancelled" {
		t.Errorf("result %s", res.Msg.Body)
	}
	if why := recorded(t, h, "election.result")["why"]; why != "no quorum: 1 of 4 ranked, quorum 2" {
		t.Errorf("recorded why %q", why)
	}
}

// stageLines are the lines of a result that give its stages.
func stageLines(body string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "Stage ") {
			out = append(out, line)
		}
	}
	return out
}

// resultOf is the one message of out saying substr that is not an edit
// (the ballot notice is edited to show the end too).
func resultOf(t *testing.T, out []Sent, substr string) Sent {
	t.Helper()
	var found []Sent
	edited := false
	for _, s := range Saying(out, substr) {
		if s.Msg.Edit == nil {
			found = append(found, s)
		} else {
			edited = true
		}
	}
	if len(found) != 1 || !edited {
		t.Fatalf("want one result saying %q and the notice's final edit, in:%s", substr, Bodies(out))
	}
	return found[0]
}

// TestNomineeLeaves: leaving the room during nominations withdraws the
// nomination.
func TestNomineeLeaves(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.SendAndDrain(Ana, "!election treasurer : Books")
	Expect(t, h, Ben, "!nominate 1 @ben:test", "stands")
	Expect(t, h, Chi, "!nominate 1 @chi:test", "stands")
	h.Rooms.Joined[Room] = []id.UserID{Bot, Ana, Chi}
	if err := h.A.HandleLeave(context.Background(), Room, Ben, h.NextEvent(), h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	f := field(t, One(t, h.Drain(), "nomination in election #1 (treasurer) is withdrawn"))
	if got := users(t, f["candidates"]); !slices.Equal(got, []id.UserID{Chi}) {
		t.Fatalf("candidates %v", got)
	}
}

// TestSettle: with the default settle time, an election whose electorate
// has all ranked closes that long after the last ranking; a change within
// it counts, a withdrawal stops the countdown.
func TestSettle(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.Env.Config.Motions.Settle = "30s"
	h.SendAndDrain(Ana, "!election treasurer : Books")
	openVote(t, h, 1, Ana, Ben)
	Expect(t, h, Ana, "!rank 1 @ana", "Your ranking")
	Expect(t, h, Ben, "!rank 1 @ana", "Your ranking")
	start := h.Clock.Now()
	if out := h.AdvanceTo(start.Add(10 * time.Second)); len(Saying(out, "Stage 1")) != 0 {
		t.Fatalf("closed within the settle time:%s", Bodies(out))
	}
	Expect(t, h, Ben, "!rank 1", "withdrawn")
	if out := h.AdvanceTo(start.Add(40 * time.Second)); len(Saying(out, "Stage 1")) != 0 {
		t.Fatalf("closed with a ranking withdrawn:%s", Bodies(out))
	}
	Expect(t, h, Ben, "!rank 1 @ben", "Your ranking")
	again := h.Clock.Now()
	Expect(t, h, Ana, "!rank 1 @ben", "Your ranking") // a change within the settle time
	out := h.AdvanceTo(again.Add(30 * time.Second))
	res := resultOf(t, out, "Stage 1")
	if got := users(t, field(t, res)["elected"]); !slices.Equal(got, []id.UserID{Ben}) {
		t.Fatalf("elected %v:\n%s", got, res.Msg.Body)
	}
}

// TestListedWithMotions: `!motions` lists an open election among the
// motions, in the room's numbering, with its phase and time left, until
// it is decided.
func TestListedWithMotions(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, "!motion Buy a printer")
	h.SendAndDrain(Ana, "!election treasurer --nominations 2d --closes 5d : Books")
	h.SendAndDrain(Ana, "!motion Rent a hall")
	list := h.Reply(Ben, "!motions")
	election := "#2 election: 1 seat as treasurer — nominations close in 2 days (`!election 2`)"
	if !strings.Contains(list, election) {
		t.Fatalf("!motions = %q, want %q", list, election)
	}
	if first, second, third := strings.Index(list, "#1 "), strings.Index(list, "#2 "), strings.Index(list, "#3 "); first > second || second > third {
		t.Errorf("!motions is not in the numbering's order: %q", list)
	}
	openVote(t, h, 2, Ana, Ben)
	if list := h.Reply(Ben, "!motions"); !strings.Contains(list, "#2 election: 1 seat as treasurer — ranking closes in") {
		t.Errorf("!motions in the ranking phase = %q", list)
	}
	h.SendAndDrain(Ana, "!rank 2 @ana")
	h.SendAndDrain(Ben, "!rank 2 @ana")
	h.AdvanceTo(h.Clock.Now().Add(6 * 24 * time.Hour))
	if list := h.Reply(Ben, "!motions"); strings.Contains(list, "election") {
		t.Errorf("!motions after the election was decided = %q", list)
	}
}

// TestSecretReceiptsInParts: the receipts of a secret election of 300 are
// too long for one message (Matrix refuses an event over 64 KiB); the
// result says how many follow, and they list every receipt once, in order,
// with the ranking counted under it.
func TestSecretReceiptsInParts(t *testing.T) {
	members := []id.UserID{Ana, Ben, Chi}
	for i := 3; i < 300; i++ {
		members = append(members, id.UserID(fmt.Sprintf("@voter%03d:test", i)))
	}
	h := newHarness(t, members...)
	h.SendAndDrain(Ana, "!election treasurer --secret : Books")
	for _, c := range []id.UserID{Ana, Ben, Chi} {
		Expect(t, h, c, fmt.Sprintf("!nominate 1 %s", c), "stands as")
	}
	f := field(t, One(t, h.SendAndDrain(Ana, "!ballot 1"), "The ballot"))
	code, _ := f["ballot_code"].(string)
	order := users(t, f["candidates"])
	var codes []string
	for i, u := range members {
		first, second := 1+i%3, 1+(i+1)%3
		h.SendDM(u, fmt.Sprintf("!rank %s %d %d", code, first, second))
		c, _ := h.Last[0].Msg.Fields["quorum.receipt"].(map[string]any)["code"].(string)
		codes = append(codes, c+": "+string(order[first-1])+" and "+string(order[second-1]))
	}
	slices.Sort(codes)
	result := resultOf(t, h.Last, "Stage 1")
	var listed []string
	parts := Saying(h.Last, "Receipts of election #1 (")
	for i, p := range parts {
		if !strings.Contains(p.Msg.Body, fmt.Sprintf("(%d of %d)", i+1, len(parts))) {
			t.Errorf("part %d says %.80q", i+1, p.Msg.Body)
		}
		if size := len(p.Msg.Body) + len(p.Msg.HTML); size > 40000 { // a third longer encrypted, under 65,536
			t.Errorf("part %d is %d bytes, too long to send encrypted", i+1, size)
		}
		_, lines, _ := strings.Cut(p.Msg.Body, ":\n")
		listed = append(listed, strings.Split(lines, "\n")...)
	}
	if len(parts) < 2 || !strings.Contains(result.Msg.Body, fmt.Sprintf("in the %d messages after this one", len(parts))) || strings.Contains(result.Msg.Body, codes[0]) {
		t.Fatalf("%d parts after the result %.200q", len(parts), result.Msg.Body)
	}
	if !slices.Equal(listed, codes) {
		t.Errorf("the parts list %d receipts, want the %d cast, in order, with their rankings", len(listed), len(codes))
	}
}

// TestBallotAgain: a member whose device could not read their ballots is
// sent again those still open that they have not cast, election and motion
// alike, after a word on why; one who cast everything, or who has no
// ballot, is sent nothing.
func TestBallotAgain(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	ctx := context.Background()
	h.SendAndDrain(Ana, "!election treasurer --secret : Books")
	for _, c := range []id.UserID{Ana, Ben} {
		Expect(t, h, c, fmt.Sprintf("!nominate 1 %s", c), "stands as")
	}
	code, _ := field(t, One(t, h.SendAndDrain(Ana, "!ballot 1"), "The ballot"))["ballot_code"].(string)
	h.SendAndDrain(Ana, "!motion --secret Buy a kettle")
	h.SendDM(Ana, "!rank "+code+" 1")
	h.Drain()
	again := func(u id.UserID) []string {
		t.Helper()
		n, err := h.A.SendAgain(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, s := range h.Drain() {
			if s.DMUser != u {
				t.Errorf("%s's ballots sent again went to %q", u, s.DMUser)
			}
			bodies = append(bodies, s.Msg.Body)
		}
		if n != len(bodies) {
			t.Errorf("SendAgain says it queued %d, the outbox had %d", n, len(bodies))
		}
		return bodies
	}
	ben := again(Ben)
	if len(ben) != 3 || !strings.Contains(ben[0], "asked me for the key of earlier messages") ||
		!strings.Contains(ben[1], "Secret ballot: election #1") || !strings.Contains(ben[2], "Secret ballot: motion #2") {
		t.Fatalf("sent Ben again:\n%s", strings.Join(ben, "\n---\n"))
	}
	if ana := again(Ana); len(ana) != 2 || !strings.Contains(ana[1], "Secret ballot: motion #2") {
		t.Fatalf("sent Ana, who ranked, again:\n%s", strings.Join(ana, "\n---\n"))
	}
	h.SendDM(Ana, "!vote 2 y")
	h.Drain()
	if ana := again(Ana); len(ana) != 0 {
		t.Fatalf("sent Ana, who cast both, again:\n%s", strings.Join(ana, "\n---\n"))
	}
	if dan := again(Dan); len(dan) != 0 {
		t.Fatalf("sent Dan, in no electorate, again:\n%s", strings.Join(dan, "\n---\n"))
	}
}

// TestSecretReceiptUnkept: a ranking's receipt is queued unkept (sealed
// with the running bot's key alone, store.Outgoing.Fallback), so that a copy
// of the files cannot tie the voter to their receipt code.
func TestSecretReceiptUnkept(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	ctx := context.Background()
	h.SendAndDrain(Ana, "!election treasurer --secret : Books")
	for _, c := range []id.UserID{Ana, Ben} {
		Expect(t, h, c, fmt.Sprintf("!nominate 1 %s", c), "stands as")
	}
	code, _ := field(t, One(t, h.SendAndDrain(Ana, "!ballot 1"), "The ballot"))["ballot_code"].(string)
	if _, err := h.A.HandleMessage(ctx, commands.Message{Room: "!dm-ben:test", Sender: Ben, Event: h.NextEvent(), Time: h.Clock.Now(),
		Body: "!rank " + code + " 1", InDM: true}); err != nil {
		t.Fatal(err)
	}
	var unkept, kept int
	if err := h.Env.Store.DB.QueryRow(ctx, "SELECT COUNT(fallback), COUNT(*) - COUNT(fallback) FROM outbox").Scan(&unkept, &kept); err != nil {
		t.Fatal(err)
	}
	if unkept != 1 || kept != 0 {
		t.Fatalf("queued: %d unkept, %d kept; want the receipt, unkept", unkept, kept)
	}
	One(t, h.Drain(), "receipt code is")
}
