package reminders

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/languages"
	"quorum/store"
)

// TestReminderGolden: a reminder DM, on time and late, in the language the
// member chose with !lang in their direct chat.
func TestReminderGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			var f *Feature
			h := NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
				f = New(env, log)
				return []commands.Feature{f, languages.New(env)}
			}, Ana)
			h.Env.Config.Timezone = "Europe/Berlin"
			h.SendDM(Ana, "!lang "+lang)
			ctx := context.Background()
			about := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC) // Friday 18:00 in Berlin
			for _, due := range []time.Time{about.Add(-3 * time.Hour), about.Add(-2 * time.Hour)} {
				if _, _, err := f.Schedule(ctx, store.Reminder{Kind: store.ReminderPersonal, User: Ana, Zone: "Europe/Berlin",
					Text: "call the landlord", About: about, DueAt: due, EndsAt: about}); err != nil {
					t.Fatal(err)
				}
			}
			onTime := Only(t, h.AdvanceTo(about.Add(-3*time.Hour)))
			late := Only(t, h.AdvanceTo(about.Add(-time.Hour))) // the bot was down for an hour
			if onTime.DMUser != Ana || late.DMUser != Ana {
				t.Fatalf("not DMs to ana: %+v %+v", onTime, late)
			}
			Golden(t, "reminder", lang, onTime.Msg.Body+"\n"+late.Msg.Body+"\n")
		})
	}
}
