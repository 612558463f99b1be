package reminders

import (
	"context"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // zones work on hosts without /usr/share/zoneinfo (static builds, scratch images)

	"quorum/commands"
	"quorum/commands/timespec"
)

// zoneNameRE is what an IANA zone name may look like; anything else is not
// passed to time.LoadLocation (which reads files named after it).
var zoneNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9][A-Za-z0-9_+\-]*){0,2}$`)

func (f *Feature) tzCommand() *commands.Command {
	return &commands.Command{
		Name:    "tz",
		Usage:   "tz [<zone> | reset]",
		Summary: "set the timezone I use when I talk to you alone (reminders, direct messages)",
		Help:    "Zones are IANA names such as `Europe/Berlin` or `America/New_York`. In rooms, times are in the room's zone.",
		Examples: []string{
			"tz",
			"tz Europe/Berlin",
			"tz reset",
		},
		Handler: f.tz,
	}
}

func (f *Feature) tz(ctx context.Context, r *commands.Request) error {
	arg := strings.TrimSpace(r.Args)
	users := r.Store.Users()
	now := r.Clock.Now()
	switch {
	case arg == "":
		tz, err := users.Timezone(ctx, r.Sender)
		if err != nil {
			return err
		}
		if tz == "" {
			r.Replyf("You haven't set a timezone; I use the room's, %s. Set yours with `%s`.", r.Location().String(), r.Cmd("tz Europe/Berlin"))
			return nil
		}
		r.Replyf("Your timezone is %s (now %s there).", tz, timespec.Human(now, r.UserLocation(ctx)))
		return nil
	case strings.EqualFold(arg, "reset"):
		if err := users.SetTimezone(ctx, r.Sender, ""); err != nil {
			return err
		}
		r.Replyf("OK, I'll use each room's timezone for you (here %s).", r.Location().String())
		return nil
	}
	loc, ok := lookupZone(arg)
	if !ok {
		return commands.Refusef("I don't know the timezone %q. Use a name like `Europe/Berlin` or `America/New_York`, e.g. `%s`.", arg, r.Cmd("tz Europe/Berlin"))
	}
	if err := users.SetTimezone(ctx, r.Sender, loc.String()); err != nil {
		return err
	}
	r.Replyf("OK, your timezone is %s (now %s there).", loc.String(), timespec.Human(now, loc))
	return nil
}

// lookupZone finds an IANA zone by name, forgiving case ("europe/berlin",
// "america/new_york"). "Local" is refused: it would mean the server's zone.
func lookupZone(name string) (*time.Location, bool) {
	if !zoneNameRE.MatchString(name) || strings.EqualFold(name, "local") {
		return nil, false
	}
	for _, candidate := range []string{name, titleZone(name), strings.ToUpper(name)} {
		if loc, err := time.LoadLocation(candidate); err == nil {
			return loc, true
		}
	}
	return nil, false
}

// titleZone capitalises each word of a zone name: "america/new_york" is
// "America/New_York".
func titleZone(name string) string {
	b := []byte(strings.ToLower(name))
	for i := range b {
		if i == 0 || strings.ContainsRune("/_-", rune(b[i-1])) {
			b[i] = strings.ToUpper(string(b[i]))[0]
		}
	}
	return string(b)
}
