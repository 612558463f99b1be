package study

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"quorum/commands"
	"quorum/commands/timespec"
)

// sessionSpec is a `study new` command, read.
type sessionSpec struct {
	Title, Topic, Place string
	Private             bool
	Start               time.Time // the first occurrence
	Rule                timespec.Recurrence
}

// Limits against floods and hostile input.
const (
	maxSessionTitle = 200
	maxSessionPlace = 300
	maxSessionTopic = 100
)

// studyExample is shown with every mistake in `study new`.
const studyExample = "study new Reading circle at friday 18:00 where the back room every week topic Capital" // a command: not for members to read translated

// The keywords of `study new`, each taken once, the first time it appears
// after the title: a title cannot contain them, a later part can ("where
// the cafe at the corner" is a place).
var studyKeywords = []string{"at", "where", "every", "topic"}

// parseStudyNew reads
//
//	<title> at <when> [where <place>] [every <interval>] [topic <topic>] [--private-location]
//
// with the optional parts in any order. <when> is a timespec.Moment in loc;
// <interval> is what timespec.ParseRecurrence reads after "every". With a
// weekday repeat the first session is the first such day at or after <when>.
// The flag may stand anywhere. Errors are friendly, with an example.
func parseStudyNew(args string, now time.Time, loc *time.Location, cmd func(string) string) (sessionSpec, error) {
	example := cmd(studyExample)
	if commands.Unsafe(args) {
		return sessionSpec{}, commands.Refusef("That has characters I can't use. Try e.g. `%s`.", example)
	}
	var spec sessionSpec
	var words []string
	for _, w := range strings.Fields(args) {
		name, _, _, isOption := commands.Option(w)
		switch {
		case isOption && (name == "private-location" || name == "private"):
			spec.Private = true
		case commands.NearMiss(w, "private-location") || commands.NearMiss(w, "private"):
			rest := strings.Join(slices.DeleteFunc(strings.Fields(args), func(x string) bool { return x == w }), " ")
			return spec, commands.Refusef("Did you mean `--private-location`? I did nothing and took your message out of the room, so that the place is not posted. Send: `%s`",
				cmd("study new "+rest+" --private-location"))
		default:
			words = append(words, w)
		}
	}
	parts := map[string][]string{}
	current := "title"
	for _, w := range words {
		k := strings.ToLower(w)
		if _, used := parts[k]; !used && len(parts["title"]) > 0 && isStudyKeyword(k) {
			current = k
			parts[k] = []string{}
			continue
		}
		parts[current] = append(parts[current], w)
	}
	spec.Title = strings.Join(parts["title"], " ")
	if spec.Title == "" {
		return spec, commands.Refusef("Give the session a title, then when it is, e.g. `%s`.", example)
	}
	when, hasWhen := parts["at"]
	if !hasWhen || len(when) == 0 {
		return spec, commands.Refusef("Say when with `at`, e.g. `%s`.", example)
	}
	for _, k := range studyKeywords[1:] {
		if v, ok := parts[k]; ok && len(v) == 0 {
			return spec, commands.Refusef("Say something after `%s`, e.g. `%s`.", k, example)
		}
	}
	spec.Place, spec.Topic = strings.Join(parts["where"], " "), strings.Join(parts["topic"], " ")
	switch {
	case utf8.RuneCountInString(spec.Title) > maxSessionTitle:
		return spec, commands.Refusef("That title is too long; keep it under %d characters.", maxSessionTitle)
	case utf8.RuneCountInString(spec.Place) > maxSessionPlace:
		return spec, commands.Refusef("That place is too long; keep it under %d characters.", maxSessionPlace)
	case utf8.RuneCountInString(spec.Topic) > maxSessionTopic:
		return spec, commands.Refusef("That topic is too long; keep it under %d characters.", maxSessionTopic)
	case spec.Private && spec.Place == "":
		return spec, commands.Refusef("`--private-location` needs a place to keep private: add `where <place>`, e.g. `%s --private-location`.", example)
	}
	start, err := timespec.Moment(strings.Join(when, " "), now, loc)
	if err != nil {
		return spec, err
	}
	spec.Start = start
	if every, ok := parts["every"]; ok {
		if spec.Rule, err = timespec.ParseRecurrence(strings.Join(every, " ")); err != nil {
			return spec, err
		}
		occ := spec.Rule.Occurrences(start, start, 1)
		if len(occ) == 0 {
			return spec, commands.Refusef("I can't work out when that repeats. Try e.g. `%s`.", example)
		}
		spec.Start = occ[0]
	}
	return spec, nil
}

// privateIntent says whether args name a place (`where …`) and ask for it
// to be private, rightly typed or nearly.
func privateIntent(args string) bool {
	words := strings.Fields(args)
	if !slices.ContainsFunc(words, func(w string) bool { return strings.EqualFold(w, "where") }) {
		return false
	}
	for _, w := range words {
		name, _, _, isOption := commands.Option(w)
		if isOption && (name == "private-location" || name == "private") ||
			commands.NearMiss(w, "private-location") || commands.NearMiss(w, "private") {
			return true
		}
	}
	return false
}

func isStudyKeyword(w string) bool {
	for _, k := range studyKeywords {
		if w == k {
			return true
		}
	}
	return false
}
