// Package record keeps the assembly's decisions in a form that members can
// check without trusting the bot, the server or whoever holds the database.
//
// Design:
//
//   - Every decision becomes an [Entry] in a per-room hash chain: each entry's
//     hash covers its sequence number, time, kind, canonical JSON content and
//     the previous entry's hash, so editing, deleting or reordering any entry
//     breaks every later link. The first entry links to the room's [Genesis],
//     a hash of the room ID, so a chain cannot be moved to another room. The
//     bot posts [Entry.Short] (64 bits) of the newest entry in the room;
//     members who saw that head can detect a rewritten history.
//   - The hash is SHA-256 over length-prefixed fields (see [Entry.ComputeHash]),
//     never over a textual rendering, so no two different entries can encode
//     alike and anyone can recompute it in a few lines of another language.
//   - Minutes are a Markdown document per period, clear-signed with the
//     assembly's OpenPGP key so GnuPG can check them. Each entry appears twice:
//     a human sentence, indented so that nothing a member wrote can be read as
//     Markdown or break out of it, and a one-line JSON block that is the source
//     of truth. [VerifyMinutes] checks the signature, parses the JSON blocks
//     back and verifies the chain.
//   - Database exports are ordinary OpenPGP messages encrypted to several
//     delegates' keys and signed by the assembly's key, so any one of them
//     can restore with plain gpg if the bot is gone. [Decrypt] accepts only
//     a good signature by the key it is given and stops a message that
//     expands beyond a cap, so whoever holds a backup cannot forge one.
//
// Keys are v4 EdDSA (legacy Ed25519) with a Curve25519 ECDH subkey because that
// is what GnuPG 2.2, still common on members' machines, understands; the newer
// RFC 9580 algorithms are deliberately not used.
package record
