package elections

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
	"quorum/stv"
)

// decide counts the rankings of m, records the result, posts it with the
// anonymised ballots, and gives the elected their mandates.
func (f *Feature) decide(ctx context.Context, fx *commands.Effects, m *store.Motion, p payload, now time.Time, why string) error {
	st := f.Store
	ballots, receipts, err := f.ballots(ctx, m, p)
	if errors.Is(err, store.ErrSealKey) {
		// Restored without the key beside the database: the box cannot be
		// opened, and the election must not stay open for ever.
		f.log.Error().Err(err).Int64("motion", m.ID).Msg("A secret election's box cannot be opened; it is cancelled uncounted")
		ballots, receipts, p.Why = nil, nil, sealedWhy().String()
	} else if err != nil {
		return err
	}
	electorate, err := st.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	seed, err := f.seedNow(ctx, m.Room)
	if err != nil {
		return err
	}
	m.ClosedAt = now
	var blt []byte
	switch {
	case p.Why != "":
		m.Status = store.ElectionCancelled
	case len(ballots) < m.QuorumCount:
		m.Status, p.Why = store.ElectionCancelled, noQuorumWhy(len(ballots), electorate, m.QuorumCount).String()
	default:
		res, data, err := count(m, p, ballots, seed)
		if err != nil {
			return err
		}
		m.Status, p.Result, blt = store.ElectionDecided, res, data
	}
	p.Ranked = len(ballots)
	m.Payload = encode(p)
	if err := st.Elections().SetPhase(ctx, m); err != nil {
		return err
	}
	f.log.Info().Int64("motion", m.ID).Str("status", string(m.Status)).Str("why", why).Msg("Contested election closed")
	content := f.fieldOf(ctx, m, p)
	content["ranked"], content["electorate"] = len(ballots), electorate
	if m.Secret && receipts != nil {
		content["receipts"] = receipts
	}
	content["opened_at"], content["closed_at"] = m.OpenedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)
	if p.Why != "" {
		content["why"] = p.Why
	}
	if p.Result != nil {
		content["seed"], content["ballots_sha256"], content["valid"] = p.Result.Seed, p.Result.Digest, p.Result.Valid
	}
	entry, recField, err := f.RecordDecision(ctx, m.Room, "election.result", content)
	if err != nil {
		return err
	}
	if m.Secret {
		if err := st.Secret().Destroy(ctx, m.ID); err != nil {
			return err
		}
	}
	out := f.resultMessage(m, p, len(ballots), electorate)
	parts := receiptParts(m.Number, receipts)
	switch {
	case len(parts) == 1:
		out = out.AppendText(parts[0])
	case len(parts) > 1:
		out = out.Append("Receipts, each code with the ranking counted under it: in the %d messages after this one.", len(parts))
	}
	out = out.Append("%s", commands.RecordLine(entry)).
		With("quorum.election", f.fieldOf(ctx, m, p)).With("quorum.record", recField)
	fx.Say(m.Room, out)
	if len(parts) > 1 {
		for _, part := range parts {
			fx.Say(m.Room, msg.FromText(part))
		}
	}
	// The ballot notice shows the end.
	if err := st.Edits().Cancel(ctx, anchorElection, m.ID); err != nil {
		return err
	}
	final, err := f.notice(ctx, m, p)
	if err != nil {
		return err
	}
	final.Edit = &msg.Anchor{Kind: anchorElection, Ref: m.ID}
	fx.Say(m.Room, final)
	if p.Result == nil {
		return nil
	}
	// A file's caption is not a message: it is written in the room's language.
	lang, err := f.Lang(ctx, m.Room)
	if err != nil {
		return err
	}
	fx.File(m.Room, msg.File{Name: fmt.Sprintf("election-%d.blt", m.Number), MimeType: "text/plain", Data: blt,
		Caption: msg.T("The anonymised ballots of election #%d in the BLT format (OpenSTV, Droop and other counters read it). SHA-256 %s.",
			m.Number, p.Result.Digest).In(lang)})
	term := time.Duration(p.TermMinutes) * time.Minute
	for _, u := range p.Result.Elected {
		if err := f.delegates.TakeOffice(ctx, fx, m, u, p.Role, p.Mandate, term); err != nil {
			return err
		}
	}
	return nil
}

// ballots are the rankings that stand: from the room's rankings, or from
// the sealed box of a secret election with each receipt's ranking.
func (f *Feature) ballots(ctx context.Context, m *store.Motion, p payload) ([][]id.UserID, map[string][]id.UserID, error) {
	var out [][]id.UserID
	if !m.Secret {
		rankings, err := f.Store.Elections().Rankings(ctx, m.ID)
		for _, r := range rankings {
			out = append(out, r.Ranking)
		}
		return out, nil, err
	}
	box, err := f.Store.Secret().Rankings(ctx, m.ID)
	if err != nil {
		return nil, nil, err
	}
	receipts := make(map[string][]id.UserID, len(box))
	codes := slices.Sorted(maps.Keys(box))
	for _, code := range codes {
		var ranking []id.UserID
		for _, n := range box[code] {
			if n >= 1 && n <= len(p.Order) {
				ranking = append(ranking, p.Order[n-1])
			}
		}
		receipts[code] = ranking
		out = append(out, ranking)
	}
	return out, receipts, nil
}

// receiptParts lists the receipts with the rankings counted under them: in
// one text, or in several when they are too long for one message (Matrix
// refuses an event over 64 KiB).
func receiptParts(number int, receipts map[string][]id.UserID) []msg.Text {
	var lines []string
	for _, code := range slices.Sorted(maps.Keys(receipts)) {
		lines = append(lines, fmt.Sprintf("%s: %s", code, commands.UserList(receipts[code])))
	}
	portions := commands.Portions(lines, func(line string) int { return len(line) + 1 }, commands.MessageBudget)
	if len(portions) == 1 {
		return []msg.Text{msg.T("Receipts (each code with the ranking counted under it):\n%s", strings.Join(lines, "\n"))}
	}
	parts := make([]msg.Text, len(portions))
	for i, lines := range portions {
		parts[i] = msg.T("Receipts of election #%d (%d of %d), each code with the ranking counted under it:\n%s", number, i+1, len(portions), strings.Join(lines, "\n"))
	}
	return parts
}

// sealedWhy and noQuorumWhy are why an election was cancelled uncounted:
// recorded in English (payload and record), shown in the reader's language
// (Reason).
func sealedWhy() msg.Text {
	return msg.T("its sealed ballot box does not open with the key beside my database")
}

func noQuorumWhy(ranked, electorate, quorum int) msg.Text {
	return msg.T("no quorum: %d of %d ranked, quorum %d", ranked, electorate, quorum)
}

// Reason is why an election was cancelled, as recorded (in English), in
// the reader's language.
func Reason(why string) msg.Text {
	if why == sealedWhy().String() {
		return sealedWhy()
	}
	var ranked, electorate, quorum int
	// Reads noQuorumWhy's English back: not for members.
	if _, err := fmt.Sscanf(why, "no quorum: %d of %d ranked, quorum %d", &ranked, &electorate, &quorum); err == nil &&
		why == noQuorumWhy(ranked, electorate, quorum).String() {
		return noQuorumWhy(ranked, electorate, quorum)
	}
	return msg.T("%s", why)
}

// count runs the STV count of rankings and returns the result and the
// anonymised ballots in BLT.
func count(m *store.Motion, p payload, rankings [][]id.UserID, seed string) (*result, []byte, error) {
	index := make(map[id.UserID]int, len(p.Order))
	ids := make([]string, len(p.Order))
	for i, u := range p.Order {
		index[u], ids[i] = i, string(u)
	}
	e := stv.Election{Candidates: ids, Seats: p.Seats, Seed: seed}
	for _, r := range rankings {
		var b []int
		for _, u := range r {
			if i, ok := index[u]; ok {
				b = append(b, i)
			}
		}
		e.Ballots = append(e.Ballots, b)
	}
	res, err := stv.Count(e)
	if err != nil {
		return nil, nil, fmt.Errorf("count election %d: %w", m.ID, err)
	}
	var blt bytes.Buffer
	// The ballots file is hashed into the record: its title is not for members to read translated.
	if err := stv.WriteBLT(&blt, stv.BLT{Title: fmt.Sprintf("Election #%d: %s", m.Number, p.Role), Candidates: ids, Seats: p.Seats, Ballots: e.Ballots}); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(blt.Bytes())
	out := &result{Method: res.Method, Quota: number(res.Quota), Valid: res.Valid, Seed: seed, Digest: hex.EncodeToString(sum[:])}
	users := func(idx []int) []id.UserID {
		list := []id.UserID{}
		for _, i := range idx {
			list = append(list, p.Order[i])
		}
		return list
	}
	out.Elected = users(res.Elected)
	for _, rd := range res.Rounds {
		counts := make(map[id.UserID]json.Number, len(rd.Counts))
		for i, c := range rd.Counts {
			counts[p.Order[i]] = number(c)
		}
		ro := round{Counts: counts, Elected: users(rd.Elected), Excluded: users(rd.Excluded), Action: string(rd.Action)}
		if rd.From >= 0 {
			ro.From = p.Order[rd.From]
			ro.Transfers = map[id.UserID]json.Number{}
			for i, v := range rd.Transfers {
				if v != 0 {
					ro.Transfers[p.Order[i]] = number(v)
				}
			}
			ro.NonTransferable, ro.Fractions = number(rd.NonTransferable), number(rd.Fractions)
		}
		for _, t := range rd.Ties {
			ro.TieList = append(ro.TieList, tie{About: t.About, Tied: users(t.Tied), Chosen: p.Order[t.Chosen], Stage: t.Stage, Lot: t.Lot})
		}
		out.Rounds = append(out.Rounds, ro)
	}
	return out, blt.Bytes(), nil
}

// number is v as a JSON number with its five places, or whole.
func number(v stv.Value) json.Number { return json.Number(short(v)) }

// short is v without ".00000".
func short(v stv.Value) string { return strings.TrimSuffix(v.String(), ".00000") }

// resultMessage says who was elected and how, stage by stage.
func (f *Feature) resultMessage(m *store.Motion, p payload, ranked, electorate int) msg.Message {
	if p.Result == nil {
		return msg.F("**Election #%d (%s) is cancelled**: %s. Nobody is elected.", m.Number, p.Role, Reason(p.Why))
	}
	res := p.Result
	pills := make([]any, len(res.Elected))
	for i, u := range res.Elected {
		pills[i] = msg.Pill(u)
	}
	out := msg.F("**Election #%d (%s): elected %s**", m.Number, p.Role, msg.List(", ", pills...))
	out = out.Append("%d of %d ranked; %d valid ballots; quota %s; %s. Lots, if any, drawn from %s.", ranked, electorate, res.Valid,
		string(res.Quota), stv.Name(res.Method), shortSeed(res.Seed))
	for i, rd := range res.Rounds {
		var parts []string
		for _, u := range p.Order {
			parts = append(parts, fmt.Sprintf("%s %s", u, rd.Counts[u]))
		}
		line := []any{msg.T("Stage %d: %s", i+1, strings.Join(parts, " · "))}
		if rd.From != "" {
			var moved []any
			for _, u := range p.Order {
				if v, ok := rd.Transfers[u]; ok && u != rd.From {
					moved = append(moved, fmt.Sprintf("%s +%s", u, v))
				}
			}
			moved = append(moved, msg.T("non-transferable +%s", rd.NonTransferable))
			if rd.Fractions != "0" && rd.Fractions != "" {
				moved = append(moved, msg.T("lost to rounding %s", rd.Fractions))
			}
			transferred := msg.T("transferred the surplus of %s: %s", rd.From, msg.List(", ", moved...))
			if rd.Action == string(stv.Exclusion) {
				transferred = msg.T("transferred the papers of excluded %s: %s", rd.From, msg.List(", ", moved...))
			}
			line = append(line, transferred)
		}
		for _, tie := range rd.Ties { // counted before ties were kept as data
			line = append(line, tie)
		}
		for _, t := range rd.TieList {
			line = append(line, t.text())
		}
		if len(rd.Excluded) > 0 {
			line = append(line, msg.T("excluded %s", commands.UserList(rd.Excluded)))
		}
		if len(rd.Elected) > 0 {
			line = append(line, msg.T("elected %s", commands.UserList(rd.Elected)))
		}
		out = out.AppendText(msg.List(" — ", line...))
	}
	if len(res.Elected) < p.Seats {
		out = out.AppendText(msg.N(p.Seats-len(res.Elected), "%d seat stays empty: there were fewer candidates.", "%d seats stay empty: there were fewer candidates."))
	}
	return out
}

// text says how a tie was broken.
func (t tie) text() msg.Text {
	how := msg.T("by the counts at stage %d", t.Stage)
	if t.Stage == 0 {
		how = msg.T("by lot %d", t.Lot)
	}
	tied, chosen := commands.UserList(t.Tied), t.Chosen
	switch t.About {
	case string(stv.Surplus):
		return msg.T("surplus tie among %s broken %s: %s", tied, how, chosen)
	case string(stv.Exclusion):
		return msg.T("exclusion tie among %s broken %s: %s", tied, how, chosen)
	}
	return msg.T("election order tie among %s broken %s: %s", tied, how, chosen)
}

func shortSeed(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// fieldOf is quorum.election.
func (f *Feature) fieldOf(ctx context.Context, m *store.Motion, p payload) map[string]any {
	candidates := p.Order
	if candidates == nil {
		candidates, _ = f.accepted(ctx, m)
	}
	if candidates == nil {
		candidates = []id.UserID{}
	}
	out := map[string]any{
		"id": m.Number, "role": p.Role, "seats": p.Seats, "status": string(m.Status), "candidates": candidates,
		"closes_at": m.ClosesAt.UTC().Format(time.RFC3339),
	}
	if m.Status == store.ElectionDecided || m.Status == store.ElectionCancelled {
		out["closes_at"] = m.ClosedAt.UTC().Format(time.RFC3339)
	}
	if m.Secret {
		out["secret"], out["ballot_code"] = true, m.BallotCode
	}
	if r := p.Result; r != nil {
		rounds := make([]map[string]any, len(r.Rounds))
		for i, ro := range r.Rounds {
			rounds[i] = ro.public()
		}
		out["method"], out["quota"], out["elected"], out["rounds"] = r.Method, r.Quota, r.Elected, rounds
	}
	return out
}

// notice is the election's notice for its phase.
func (f *Feature) notice(ctx context.Context, m *store.Motion, p payload) (msg.Message, error) {
	loc := f.Config.Location(m.Room)
	out := msg.F("**Election #%d** (%s): %s as %s, term %s.", m.Number, msg.Pill(m.Proposer),
		msg.N(p.Seats, "%d seat", "%d seats"), p.Role, timespec.Remaining(time.Duration(p.TermMinutes)*time.Minute)).
		Append("**Mandate:** %s", p.Mandate)
	switch m.Status {
	case store.ElectionNominations:
		accepted, err := f.accepted(ctx, m)
		if err != nil {
			return out, err
		}
		out = out.Append("Nominations are open until %s: `%s` (yourself too); a nominee accepts with `%s`.",
			timespec.Human(m.ClosesAt, loc), f.Cmd(fmt.Sprintf("nominate %d @user", m.Number)), f.Cmd(fmt.Sprintf("accept %d", m.Number))) // a command: not for members to read translated
		if len(accepted) > 0 {
			out = out.Append("Candidates so far: %s.", commands.UserList(accepted))
		}
	case store.ElectionVoting:
		electorate, err := f.Store.Motions().ElectorateSize(ctx, m.ID)
		if err != nil {
			return out, err
		}
		out = out.Append("**The ballot** (order drawn by lot):")
		for i, u := range p.Order {
			out = out.Append("%d. %s", i+1, msg.Pill(u))
		}
		if m.Secret {
			out = out.Append("**Secret ballot** `%s`: I have sent every member the ballot in a direct message; rank there, once. Rankings sent here are not counted.", m.BallotCode)
			out = out.Append("Counted by Scottish STV (Droop quota) · quorum %d of %d · closes %s (in %s) · %d of %d ranked",
				m.QuorumCount, electorate, timespec.Human(m.ClosesAt, loc), timespec.Remaining(m.ClosesAt.Sub(f.Clock.Now())), m.Turnout, electorate)
			break
		}
		out = out.Append("Rank as many as you like, your favourite first: `%s` or with their Matrix IDs. Your latest ranking counts; `%s` alone withdraws it.",
			f.Cmd(fmt.Sprintf("rank %d %s", m.Number, strings.Join(exampleNumbers(len(p.Order)), " "))), f.Cmd(fmt.Sprintf("rank %d", m.Number))) // a command: not for members to read translated
		rankings, err := f.Store.Elections().Rankings(ctx, m.ID)
		if err != nil {
			return out, err
		}
		if !m.SettlesAt.IsZero() && m.SettlesAt.Before(m.ClosesAt) {
			out = out.Append("Everyone has ranked: it closes at %s; a change until then counts.", m.SettlesAt.In(loc).Format("15:04:05"))
		}
		counted := msg.T("Counted by Scottish STV (Droop quota) · quorum %d of %d · closes %s (in %s) · %d of %d ranked", m.QuorumCount, electorate,
			timespec.Human(m.ClosesAt, loc), timespec.Remaining(m.ClosesAt.Sub(f.Clock.Now())), len(rankings), electorate)
		if p.Seats == 1 {
			counted = msg.T("Counted by Scottish STV (Droop quota), instant-runoff for one seat · quorum %d of %d · closes %s (in %s) · %d of %d ranked", m.QuorumCount, electorate,
				timespec.Human(m.ClosesAt, loc), timespec.Remaining(m.ClosesAt.Sub(f.Clock.Now())), len(rankings), electorate)
		}
		out = out.AppendText(counted)
	case store.ElectionDecided, store.ElectionCancelled:
		electorate, err := f.Store.Motions().ElectorateSize(ctx, m.ID)
		if err != nil {
			return out, err
		}
		out = out.AppendMessage(f.resultMessage(m, p, p.Ranked, electorate))
	}
	return out.With("quorum.election", f.fieldOf(ctx, m, p)), nil
}
