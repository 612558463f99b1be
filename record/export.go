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

// Encrypt writes src to dst as a binary OpenPGP message that each recipient
// can decrypt on their own, with this package's [Decrypt] or with
// gpg --decrypt, so that a database snapshot can be kept off the bot's server
// without trusting where it is kept. It streams: memory use does not grow with
// the input. filename goes into the message for gpg to suggest when
// decrypting. The message is not signed.
func Encrypt(dst io.Writer, src io.Reader, recipients openpgp.EntityList, filename string) error {
	if len(recipients) == 0 {
		return errors.New("record: encrypt: no recipients")
	}
	now := time.Now()
	for _, e := range recipients {
		if _, ok := e.EncryptionKey(now); !ok {
			return fmt.Errorf("record: encrypt: recipient %s has no usable encryption key (expired or revoked?)", describeEntity(e))
		}
	}
	w, err := openpgp.Encrypt(dst, recipients, nil, &openpgp.FileHints{IsBinary: true, FileName: filename}, exportConfig())
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

// Decrypt writes the plaintext of an OpenPGP message from src (as made by
// [Encrypt] or gpg --encrypt) to dst, using the armored private key unlocked
// with passphrase. It streams, so plaintext reaches dst before the integrity
// check at the end of the message: if Decrypt returns an error, discard what
// was written. A message for other keys fails with the key IDs it is for.
func Decrypt(dst io.Writer, src io.Reader, armoredPrivateKey []byte, passphrase string) error {
	e, err := readPrivateEntity(armoredPrivateKey, passphrase)
	if err != nil {
		return err
	}
	// Keep the start of the message: if no key fits, the recipients are
	// listed in its first packets.
	head := &prefixWriter{max: 64 << 10}
	md, err := openpgp.ReadMessage(io.TeeReader(src, head), openpgp.EntityList{e}, nil, exportConfig())
	if err != nil {
		if errors.Is(err, pgperrors.ErrKeyIncorrect) {
			return fmt.Errorf("record: decrypt: this backup is not encrypted to that key (%s; that key decrypts for %s)",
				recipientsOf(head.buf.Bytes()), ownKeyIDs(e))
		}
		return fmt.Errorf("record: decrypt: not an OpenPGP encrypted file: %w", err)
	}
	if !md.IsEncrypted {
		return errors.New("record: decrypt: this file is not encrypted")
	}
	if _, err := io.Copy(dst, md.UnverifiedBody); err != nil {
		return fmt.Errorf("record: decrypt: %w (the file is damaged or was altered; discard the output)", err)
	}
	if md.IsSigned && md.SignedBy != nil && md.SignatureError != nil {
		return fmt.Errorf("record: decrypt: bad signature: %w", md.SignatureError)
	}
	return nil
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
				ids = append(ids, "a hidden recipient")
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
		return "it is for key IDs " + strings.Join(ids, ", ")
	case passphrase:
		return "it is encrypted with a passphrase, not to a key"
	default:
		return "its recipients cannot be read"
	}
}

func ownKeyIDs(e *openpgp.Entity) string {
	var ids []string
	for _, k := range (openpgp.EntityList{e}).DecryptionKeys() {
		ids = append(ids, fmt.Sprintf("%016X", k.PublicKey.KeyId))
	}
	if len(ids) == 0 {
		return "no key ID (it has no encryption key)"
	}
	return "key ID " + strings.Join(ids, ", ")
}
