package record

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	type inner struct {
		Z int    `json:"z"`
		A string `json:"a"`
	}
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"map keys sorted", map[string]int{"b": 2, "a": 1, "c": 3, "aa": 0}, `{"a":1,"aa":0,"b":2,"c":3}`},
		{"struct fields sorted", inner{Z: 1, A: "x"}, `{"a":"x","z":1}`},
		{"nested", map[string]any{"z": []any{map[string]any{"y": 1, "x": nil}, true}, "a": inner{}}, `{"a":{"a":"","z":0},"z":[{"x":null,"y":1},true]}`},
		{"raw message re-parsed", json.RawMessage(" {\n \"b\" : [1, 2],\n \"a\" : {\"d\":1,\"c\":2} }"), `{"a":{"c":2,"d":1},"b":[1,2]}`},
		{"utf-16 key order", map[string]int{"\uE000": 1, "😀": 2, "z": 3}, "{\"z\":3,\"😀\":2,\"\uE000\":1}"},
		{"no html escaping", "<b>&</b>", `"<b>&</b>"`},
		{"controls escaped", "a\nb\tc\x01\x1f\"\\", `"a\nb\tc\u0001\u001f\"\\"`},
		{"line separators raw", "a\u2028b", "\"a\u2028b\""},
		{"invalid utf-8 replaced", "a\xffb", "\"a\uFFFDb\""},
		{"integer kept exactly", json.RawMessage(`12345678901234567890123`), `12345678901234567890123`},
		{"int64", int64(-9007199254740993), `-9007199254740993`},
		{"float integral", json.RawMessage(`1.0`), `1`},
		{"exponent", json.RawMessage(`1e2`), `100`},
		{"negative zero", json.RawMessage(`-0.0`), `0`},
		{"negative zero int", json.RawMessage(`-0`), `0`},
		{"large float", 1e21, `1e+21`},
		{"small float", 1e-7, `1e-7`},
		{"fraction", 0.000001, `0.000001`},
		{"ordinary float", 3.25, `3.25`},
		{"nil", nil, `null`},
		{"empty object", map[string]any{}, `{}`},
		{"empty array", []int{}, `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonical(tc.in)
			if err != nil {
				t.Fatalf("Canonical: %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("Canonical\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestCanonicalStable(t *testing.T) {
	// Maps iterate in random order: build the same value many times.
	var first []byte
	for range 50 {
		m := map[string]any{}
		for _, k := range []string{"motion", "for", "against", "abstain", "quorum", "voters", "notes"} {
			m[k] = map[string]any{"k": k, "n": 1, "list": []string{k, "x"}}
		}
		got, err := Canonical(m)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = got
		} else if !bytes.Equal(got, first) {
			t.Fatalf("Canonical changed between runs:\n%s\n%s", first, got)
		}
		again, err := Canonical(json.RawMessage(got))
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("Canonical is not idempotent: %s -> %s (%v)", got, again, err)
		}
	}
}

// TestWriteString: only what JSON requires is escaped (quote, backslash,
// controls below U+0020; not the space, not DEL); bytes that are not UTF-8,
// which reach it from an entry whose content is not JSON, become U+FFFD.
func TestWriteString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{" a b ", `" a b "`},
		{"\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{`"\/`, `"\"\\/"`},
		{"é😀\u2028", "\"é😀\u2028\""},
		{"\x80", "\"\uFFFD\""},
		{"a\xffb", "\"a\uFFFDb\""},
		{"\xe2\x82", "\"\uFFFD\uFFFD\""}, // a cut-off character: each byte
		{"\uFFFD", "\"\uFFFD\""},
	} {
		var b bytes.Buffer
		writeString(&b, tc.in)
		if b.String() != tc.want {
			t.Errorf("writeString(%q) = %s, want %s", tc.in, b.String(), tc.want)
		}
	}
}

// TestCanonicalNumberForms: where the ECMAScript form switches between
// plain digits and an exponent (at 1e-6 and 1e21), and exponents written
// without a leading zero.
func TestCanonicalNumberForms(t *testing.T) {
	for in, want := range map[string]string{
		"1e-6": "0.000001", "9.99e-7": "9.99e-7", "1e-7": "1e-7", "1.5e-10": "1.5e-10", "1e-100": "1e-100",
		"1e20": "100000000000000000000", "1e21": "1e+21", "1.5e300": "1.5e+300", "-1e21": "-1e+21", "-1e-7": "-1e-7",
		"0": "0", "-0": "0", "10": "10", "-10": "-10", "0.5": "0.5", "-0.5": "-0.5", "100000000000000000000000": "100000000000000000000000",
	} {
		got, err := Canonical(json.RawMessage(in))
		if err != nil || string(got) != want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// TestCanonicalNumberLeadingZeros: JSON forbids them, so Canonical never
// meets one; canonicalNumber still does not pass "01" through as an integer.
func TestCanonicalNumberLeadingZeros(t *testing.T) {
	for in, want := range map[string]string{"01": "1", "-01": "-1", "007": "7", "0": "0"} {
		if got, err := canonicalNumber(in); err != nil || got != want {
			t.Errorf("canonicalNumber(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestCanonicalRejects(t *testing.T) {
	for _, in := range []any{
		json.RawMessage(`{"a":`),
		json.RawMessage(`1e400`),
		make(chan int),
	} {
		if got, err := Canonical(in); err == nil {
			t.Errorf("Canonical(%v) = %s, want an error", in, got)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.0,-0,"x\u0000"]}`, `"\ud800"`, `1e-7`, `[{"":{}}]`, `123456789012345678901234567890`} {
		f.Add([]byte(s))
	}
	// The edges: empty and scalar documents; numbers at the limits of
	// float64 and of the plain-integer rule, and where ECMAScript switches to
	// exponents; every kind of escape; keys whose UTF-16 order differs from
	// their UTF-8 order; duplicate keys; deep nesting; white space.
	for _, s := range []string{
		``, ` `, `null`, `true`, `false`, `0`, `-0`, `""`, `[]`, `{}`, `[[]]`, `{"":""}`,
		`-0.0`, `0.0`, `1.0`, `1e0`, `1E+2`, `0.1e1`, `100e-2`, `-1`, `01`, `-01`, `1.`, `.5`,
		`1e-6`, `1e-7`, `0.000001`, `0.0000001`, `1e20`, `1e21`, `999999999999999999999`, `100000000000000000000.0`,
		`5e-324`, `2e-324`, `1.7976931348623157e308`, `1.8e308`, `1e400`, `-1e400`,
		`9007199254740993`, `9223372036854775807`, `-9223372036854775808`, `18446744073709551616`,
		`0.1`, `0.3`, `123.456e-7`, `1.5e300`,
		`"\u0000\u001f\u007f\u0080\u009f"`, `"\b\f\n\r\t\"\\\/"`, `"\u2028\u2029"`, `"\ud83d\ude00"`,
		`"\udc00"`, `"\ud800\ud800"`, `"\ufeff"`, "\"\xff\"", "\"\xed\xa0\x80\"", `"é"`, `"e\u0301"`,
		`{"\uff61":1,"\ud83d\ude00":2,"z":3,"é":4,"":5}`, `{"a":1,"a":2}`, `{"a":{"a":{"a":{}}}}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
		" \t\r\n{ \"a\" : [ 1 , 2 ] }\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		c, err := Canonical(json.RawMessage(in))
		if err != nil {
			return // numbers beyond float64 are refused, which is fine
		}
		if !json.Valid(c) {
			t.Fatalf("Canonical(%q) = %q, not JSON", in, c)
		}
		if bytes.ContainsAny(c, "\n\r") {
			t.Fatalf("Canonical(%q) = %q spans lines", in, c)
		}
		again, err := Canonical(json.RawMessage(c))
		if err != nil || !bytes.Equal(again, c) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", in, c, again, err)
		}
	})
}
