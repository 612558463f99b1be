package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ReadPublicKeys reads armored public keys, such as the delegates' keys an
// export is encrypted to or the assembly key minutes are checked against. An
// argument may hold several armored blocks one after another (a pasted
// keyring file); every block is read, because silently dropping one would
// leave a delegate out of a backup they believe they can open. Every argument
// must hold at least one key.
func ReadPublicKeys(armored ...[]byte) (openpgp.EntityList, error) {
	var all openpgp.EntityList
	for i, a := range armored {
		blocks := armoredBlocks(a)
		if len(blocks) == 0 {
			return nil, fmt.Errorf("read public key %d: no armored OpenPGP key found", i+1)
		}
		for _, b := range blocks {
			el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("read public key %d: %w", i+1, err)
			}
			all = append(all, el...)
		}
	}
	if len(all) == 0 {
		return nil, errors.New("read public keys: none given")
	}
	return all, nil
}

// armoredBlocks splits data at each "-----BEGIN PGP " (which cannot occur
// inside an armored block's base64).
func armoredBlocks(data []byte) [][]byte {
	marker := []byte("-----BEGIN PGP ")
	var starts []int
	for i := 0; i < len(data); {
		j := bytes.Index(data[i:], marker)
		if j < 0 {
			break
		}
		starts = append(starts, i+j)
		i += j + len(marker)
	}
	blocks := make([][]byte, len(starts))
	for n, s := range starts {
		end := len(data)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		blocks[n] = data[s:end]
	}
	return blocks
}

// exportConfig: AES-256 with MDC (SEIPD v1), no compression, no AEAD, so that
// GnuPG 2.2 decrypts it. The intersection with recipients' preferences still
// applies.
func exportConfig() *packet.Config {
	return &packet.Config{DefaultCipher: packet.CipherAES256}
}

// DefaultMaxSize is how much a backup may expand to when it is decrypted,
// unless told otherwise: far more than the database of a union's assembly
// (megabytes to tens of megabytes), far less than a disk. A compressed
// OpenPGP message can expand a thousandfold per layer of compression, so
// without a cap a small file could fill the disk before its signature, which
// comes last, is checked.
const DefaultMaxSize int64 = 1 << 30

// ErrTooLarge is returned (wrapped) by [Decrypt] when the plaintext would
// exceed the cap.
var ErrTooLarge = errors.New("the backup expands beyond the size limit")

// Encrypt writes src to dst as a binary OpenPGP message, signed by signer,
// that each recipient can decrypt on their own, with this package's
// [Decrypt] or with gpg --decrypt, so that a database snapshot can be kept
// off the bot's server without trusting where it is kept: whoever holds it
// cannot read it without a recipient's key, nor make another that [Decrypt]
// accepts without signer's. It streams: memory use does not grow with the
// input. filename goes into the message for gpg to suggest when decrypting.
func Encrypt(dst io.Writer, src io.Reader, recipients openpgp.EntityList, signer *Key, filename string) error {
	if len(recipients) == 0 {
		return errors.New("record: encrypt: no recipients")
	}
	if signer == nil {
		return errors.New("record: encrypt: no signing key")
	}
	now := time.Now()
	for _, e := range recipients {
		if _, ok := e.EncryptionKey(now); !ok {
			return fmt.Errorf("record: encrypt: recipient %s has no usable encryption key (expired or revoked?)", describeEntity(e))
		}
	}
	w, err := openpgp.Encrypt(dst, recipients, signer.entity, &openpgp.FileHints{IsBinary: true, FileName: filename}, exportConfig())
	if err != nil {
		return fmt.Errorf("record: encrypt: %w", err)
	}
	if _, err := io.Copy(w, src); err != nil {
		return fmt.Errorf("record: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("record: encrypt: %w", err)
	}
	return nil
}

// DecryptOptions says whose backup [Decrypt] opens and what it accepts.
type DecryptOptions struct {
	// Key is the recipient's armored private key, unlocked with Passphrase.
	Key        []byte
	Passphrase string
	// SignedBy are the keys whose signature is accepted: the bot's public
	// key. A backup without a good signature by one of them is refused.
	SignedBy openpgp.EntityList
	// MaxSize caps the plaintext written; 0 means [DefaultMaxSize].
	MaxSize int64
}

// Signature says who signed a backup that [Decrypt] accepted, and when (as
// the signer claims): an old backup, replayed, is still genuine, so show the
// date to whoever restores it.
type Signature struct {
	Signer string
	Time   time.Time
}

// Decrypt writes the plaintext of an OpenPGP message from src (as made by
// [Encrypt], or by gpg --sign --encrypt) to dst. It refuses a message that
// is not signed, or not by one of o.SignedBy, before writing anything; one
// that expands beyond o.MaxSize as soon as it does; and, at the end, one
// whose signature or integrity check fails. It streams, so plaintext reaches
// dst before the checks at the end of the message: if Decrypt returns an
// error, discard what was written. A message for other keys fails with the
// key IDs it is for.
func Decrypt(dst io.Writer, src io.Reader, o DecryptOptions) (Signature, error) {
	var sig Signature
	if len(o.SignedBy) == 0 {
		return sig, errors.New("record: decrypt: no key to check the backup's signature with")
	}
	limit := o.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	e, err := readPrivateEntity(o.Key, o.Passphrase)
	if err != nil {
		return sig, err
	}
	// Keep the start of the message: if no key fits, the recipients are
	// listed in its first packets.
	head := &prefixWriter{max: 64 << 10}
	keys := backupKeys{recipient: openpgp.EntityList{e}, signers: o.SignedBy}
	md, err := openpgp.ReadMessage(io.TeeReader(src, head), keys, nil, exportConfig())
	if err != nil {
		if errors.Is(err, pgperrors.ErrKeyIncorrect) {
			return sig, fmt.Errorf("record: decrypt: this backup is not encrypted to that key (%s; that key decrypts for %s)",
				recipientsOf(head.buf.Bytes()), ownKeyIDs(e))
		}
		return sig, fmt.Errorf("record: decrypt: not an OpenPGP encrypted file: %w", err)
	}
	switch {
	case !md.IsEncrypted:
		return sig, errors.New("record: decrypt: this file is not encrypted")
	case !md.IsSigned:
		return sig, errors.New("record: decrypt: this backup is not signed; quorum export signs every backup with the bot's key, so this one was made some other way")
	case md.SignedBy == nil:
		return sig, fmt.Errorf("record: decrypt: this backup is signed by key ID %016X, which is not the key given (%s)", md.SignedByKeyId, keyList(o.SignedBy))
	}
	n, err := io.Copy(dst, io.LimitReader(md.UnverifiedBody, limit))
	if err == nil && n == limit {
		// One byte more, not written, tells a backup of exactly the limit
		// (whose end, read here, triggers the checks) from a larger one.
		var one [1]byte
		if m, rerr := io.ReadFull(md.UnverifiedBody, one[:]); m > 0 {
			return sig, fmt.Errorf("record: decrypt: %w of %d bytes (%s); if a real database is that large, raise the limit", ErrTooLarge, limit, humanBytes(limit))
		} else if rerr != io.EOF {
			err = rerr
		}
	}
	if err != nil {
		return sig, fmt.Errorf("record: decrypt: %w (the file is damaged or was altered; discard the output)", err)
	}
	if md.SignatureError != nil {
		return sig, fmt.Errorf("record: decrypt: bad signature, the backup is forged or was altered (discard the output): %w", md.SignatureError)
	}
	if md.Signature == nil {
		return sig, errors.New("record: decrypt: the signature announced at the start is missing at the end (discard the output)")
	}
	return Signature{Signer: describeEntity(md.SignedBy.Entity), Time: md.Signature.CreationTime.UTC()}, nil
}

// backupKeys lets [openpgp.ReadMessage] decrypt with the recipient's key
// only and accept signatures from the signers only: one keyring for both
// would accept a backup signed by the recipient's own key.
type backupKeys struct{ recipient, signers openpgp.EntityList }

func (k backupKeys) KeysById(id uint64) []openpgp.Key { return k.recipient.KeysById(id) }
func (k backupKeys) DecryptionKeys() []openpgp.Key    { return k.recipient.DecryptionKeys() }
func (k backupKeys) KeysByIdUsage(id uint64, usage byte) []openpgp.Key {
	return k.signers.KeysByIdUsage(id, usage)
}

// humanBytes writes n in binary units (1 GiB), for messages.
func humanBytes(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
		if n >= u.size {
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// prefixWriter keeps the first max bytes written to it and drops the rest.
type prefixWriter struct {
	buf bytes.Buffer
	max int
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if room := p.max - p.buf.Len(); room > 0 {
		p.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// recipientsOf lists the key IDs in the public-key-encrypted session key
// packets at the start of a message.
func recipientsOf(head []byte) string {
	var ids []string
	passphrase := false
	r := packet.NewReader(bytes.NewReader(head))
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			if p.KeyId == 0 {
				ids = append(ids, "a hidden recipient") // not for members: the backup CLI's errors (operator, in English)
			} else {
				ids = append(ids, fmt.Sprintf("%016X", p.KeyId))
			}
			continue
		case *packet.SymmetricKeyEncrypted:
			passphrase = true
			continue
		}
		break
	}
	switch {
	case len(ids) > 0:
		return "it is for key IDs " + strings.Join(ids, ", ") // not for members: the backup CLI's errors (operator, in English)
	case passphrase:
		return "it is encrypted with a passphrase, not to a key" // not for members: the backup CLI's errors (operator, in English)
	default:
		return "its recipients cannot be read" // not for members: the backup CLI's errors (operator, in English)
	}
}

func ownKeyIDs(e *openpgp.Entity) string {
	var ids []string
	for _, k := range (openpgp.EntityList{e}).DecryptionKeys() {
		ids = append(ids, fmt.Sprintf("%016X", k.PublicKey.KeyId))
	}
	if len(ids) == 0 {
		return "no key ID (it has no encryption key)" // not for members: the backup CLI's errors (operator, in English)
	}
	return "key ID " + strings.Join(ids, ", ")
}
