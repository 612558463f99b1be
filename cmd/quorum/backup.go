package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"
	_ "modernc.org/sqlite"

	"quorum/bot"
	"quorum/config"
	"quorum/record"
	"quorum/store"
)

func exportCommand() *cobra.Command {
	var cfgPath, outPath string
	var recipients []string
	var includeCrypto, force bool
	cmd := &cobra.Command{
		Use:   "export --config FILE --to KEY.asc [--to KEY.asc ...] -o BACKUP.pgp",
		Short: "Write an encrypted, signed snapshot of the bot's whole state",
		Long: "Take a consistent snapshot of the database (safe while the bot runs), sign it with\n" +
			"the bot's OpenPGP key (the one !key shows) and encrypt it to the given public keys:\n" +
			"each recipient can restore it alone, with `quorum import` or `gpg --decrypt`. The\n" +
			"bot's encryption keys and login session are left out unless --include-crypto is\n" +
			"given. An existing file is replaced only with --force; a symbolic link never.",
		Example: "  quorum export --config config.yaml --to alice.asc --to bob.asc -o backup.pgp",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" || outPath == "" || len(recipients) == 0 {
				return usageError{errors.New("export needs --config, at least one --to and -o; for example: quorum export --config config.yaml --to alice.asc -o backup.pgp")}
			}
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			var armored [][]byte
			for _, p := range recipients {
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				armored = append(armored, data)
			}
			keys, err := record.ReadPublicKeys(armored...)
			if err != nil {
				return err
			}
			if err := checkTarget(outPath, force); err != nil {
				return err
			}
			if includeCrypto {
				fmt.Fprintln(cmd.ErrOrStderr(), "Warning: this export includes the bot's encryption keys and login session. "+
					"Anyone who can decrypt it can read what members send the bot and act as the bot. Keep it as safe as the server.")
			}
			signer, err := export(cmd.Context(), cfg, outPath, keys, includeCrypto, force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s, encrypted to %d key(s), signed by the bot's key %s.\n", outPath, len(keys), signer.Fingerprint())
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "the bot's configuration file")
	cmd.Flags().StringArrayVar(&recipients, "to", nil, "a recipient's armored public key (repeat for several)")
	cmd.Flags().StringVarP(&outPath, "output", "o", "", "where to write the encrypted backup")
	cmd.Flags().BoolVar(&includeCrypto, "include-crypto", false, "also export the bot's encryption keys and session (dangerous)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file if it exists")
	return cmd
}

// cryptoTables is the prefix of mautrix's crypto store tables, which an
// export leaves out by default together with the bot's login session.
const cryptoTables = "crypto_"

// export writes the signed, encrypted snapshot and returns the key that
// signed it. The plaintext snapshot is made beside the database (as private
// as the database), never beside the output, which may be off-site.
func export(ctx context.Context, cfg *config.Config, outPath string, keys openpgp.EntityList, includeCrypto, force bool) (*record.Key, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(cfg.Database), ".quorum-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	snapshot := filepath.Join(tmp, "quorum.db")
	if err := snapshotDB(ctx, cfg.Database, snapshot, includeCrypto); err != nil {
		return nil, err
	}
	signer, err := botSigningKey(ctx, snapshot, cfg)
	if err != nil {
		return nil, err
	}
	in, err := os.Open(snapshot)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	err = writeAtomically(outPath, force, func(out *os.File) error {
		return record.Encrypt(out, in, keys, signer, "quorum.db")
	})
	return signer, err
}

// botSigningKey unlocks the bot's OpenPGP key, kept in the database's meta
// table, with pgp_passphrase or the passphrase file beside the database, as
// the bot does.
func botSigningKey(ctx context.Context, database string, cfg *config.Config) (*record.Key, error) {
	armored, err := metaValue(ctx, database, "pgp_key")
	if err != nil {
		return nil, err
	}
	if armored == "" {
		return nil, errors.New("the bot has no signing key yet, and backups are signed with it: start the bot once (quorum run) so that it makes one")
	}
	pass := cfg.PGPPassphrase
	if pass == "" {
		path := bot.PGPPassphrasePath(cfg.Database)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("the passphrase of the bot's signing key: %w (set pgp_passphrase, or restore that file)", err)
		}
		pass = strings.TrimSpace(string(data))
	}
	key, err := record.LoadKey([]byte(armored), pass)
	if err != nil {
		return nil, fmt.Errorf("the bot's signing key (is pgp_passphrase right?): %w", err)
	}
	return key, nil
}

// botPublicKey reads the bot's key from its database, to check a backup's
// signature with.
func botPublicKey(ctx context.Context, database string) (openpgp.EntityList, error) {
	armored, err := metaValue(ctx, database, "pgp_key")
	if err != nil {
		return nil, fmt.Errorf("the bot's key in %s: %w; give it with --signed-by instead", database, err)
	}
	if armored == "" {
		return nil, fmt.Errorf("%s holds no key of the bot's; give it with --signed-by instead", database)
	}
	return record.ReadPublicKeys([]byte(armored))
}

// metaValue reads one value of the meta table (a missing file is an error,
// not a new database).
func metaValue(ctx context.Context, database, key string) (string, error) {
	if _, err := os.Stat(database); err != nil {
		return "", fmt.Errorf("database: %w", err)
	}
	db, err := sql.Open("sqlite", store.DSN(database))
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key=?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// immutableDSN opens a file nobody else uses read only and without locks:
// nothing is written, and no -wal or -shm file is made beside it, whatever
// journal mode its header names.
func immutableDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&immutable=1"
}

// snapshotDB copies database to dst with VACUUM INTO, which reads one
// consistent state even while the bot writes, then strips the secrets the
// export should not carry.
func snapshotDB(ctx context.Context, database, dst string, includeCrypto bool) error {
	if _, err := os.Stat(database); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	src, err := sql.Open("sqlite", store.DSN(database))
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if includeCrypto {
		return nil
	}
	db, err := sql.Open("sqlite", store.DSN(dst))
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE ?", cryptoTables+"%")
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, n)
	}
	rows.Close()
	stmts := []string{"PRAGMA foreign_keys=OFF", "DELETE FROM meta WHERE key IN ('access_token', 'sync_next_batch', 'sync_filter_id')"}
	for _, t := range tables {
		stmts = append(stmts, fmt.Sprintf("DROP TABLE %q", t))
	}
	stmts = append(stmts, "VACUUM")
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("strip secrets from snapshot: %w", err)
		}
	}
	return nil
}

func importCommand() *cobra.Command {
	var keyPath, database, passphraseEnv, signedBy, cfgPath, maxSize string
	var force bool
	cmd := &cobra.Command{
		Use:   "import BACKUP.pgp --key SECRET.asc --signed-by BOT-KEY.asc --database NEW.db",
		Short: "Restore an encrypted, signed snapshot into a new database file",
		Long: "Decrypt a backup made by `quorum export` with your OpenPGP secret key, check that\n" +
			"the bot's key signed it, and write it to a database path that does not exist yet\n" +
			"(or, with --force, replace one; stop the bot first). The bot's public key is the\n" +
			"file given with --signed-by (from !key; check its fingerprint), or, with --config,\n" +
			"the key in the database that configuration names. A backup that is not signed by\n" +
			"that key, that expands beyond --max-size, or whose database has tables, indexes,\n" +
			"triggers or views that Quorum does not make is refused and leaves nothing behind.\n" +
			"The key's passphrase, if any, is read from the environment variable named by\n" +
			"--passphrase-env.",
		Example: "  QUORUM_KEY_PASSPHRASE=... quorum import backup.pgp --key alice-secret.asc --signed-by quorum-key.asc --database /var/lib/quorum/quorum.db",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("import takes one BACKUP file; for example: quorum import backup.pgp --key my-secret.asc --signed-by quorum-key.asc --database new.db")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" || database == "" {
				return usageError{errors.New("import needs --key and --database; for example: quorum import backup.pgp --key my-secret.asc --signed-by quorum-key.asc --database new.db")}
			}
			if signedBy == "" && cfgPath == "" {
				return usageError{errors.New("import needs the bot's public key to check the backup's signature: --signed-by quorum-key.asc (the key !key shows), or --config config.yaml to use the key in the bot's database")}
			}
			limit, err := parseSize(maxSize)
			if err != nil {
				return usageError{fmt.Errorf("--max-size: %w", err)}
			}
			key, err := os.ReadFile(keyPath)
			if err != nil {
				return err
			}
			var signers openpgp.EntityList
			if signedBy != "" {
				data, err := os.ReadFile(signedBy)
				if err != nil {
					return err
				}
				if signers, err = record.ReadPublicKeys(data); err != nil {
					return fmt.Errorf("--signed-by %s: %w", signedBy, err)
				}
			} else {
				cfg, err := config.Load(cfgPath, passphraseEnv)
				if err != nil {
					return err
				}
				if signers, err = botPublicKey(cmd.Context(), cfg.Database); err != nil {
					return err
				}
			}
			sig, err := importBackup(cmd.Context(), importOptions{
				backup: args[0], database: database, force: force,
				open: record.DecryptOptions{Key: key, Passphrase: os.Getenv(passphraseEnv), SignedBy: signers, MaxSize: limit},
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored %s into %s. It was signed by %s on %s: check that this is the backup you meant.\n"+
				"Point the bot's `database` at it to use it.\n", args[0], database, sig.Signer, sig.Time.Format(time.DateTime+" MST"))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "your armored OpenPGP secret key")
	cmd.Flags().StringVar(&database, "database", "", "the new database file to create")
	cmd.Flags().StringVar(&passphraseEnv, "passphrase-env", "QUORUM_KEY_PASSPHRASE", "environment variable holding the key's passphrase")
	cmd.Flags().StringVar(&signedBy, "signed-by", "", "the bot's armored public key (from !key), which must have signed the backup")
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "instead of --signed-by: the bot's configuration, whose database holds its key")
	cmd.Flags().StringVar(&maxSize, "max-size", fmt.Sprintf("%dGiB", record.DefaultMaxSize>>30), "refuse a backup that expands beyond this (KiB, MiB, GiB)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the database file if it exists (stop the bot first)")
	return cmd
}

type importOptions struct {
	backup, database string
	force            bool
	open             record.DecryptOptions
}

// importBackup decrypts the backup into a new file beside the database,
// checks its signature, size, schema and integrity, and only then moves it
// into place: a wrong key, a forged or damaged file leaves nothing behind.
func importBackup(ctx context.Context, o importOptions) (record.Signature, error) {
	var sig record.Signature
	if err := checkTarget(o.database, o.force); err != nil {
		return sig, err
	}
	// Replacing a database whose journal is still beside it would have
	// SQLite apply that journal to the restored file.
	for _, suffix := range []string{"-wal", "-journal"} {
		if _, err := os.Lstat(o.database + suffix); err == nil {
			return sig, fmt.Errorf("%s%s exists: the database is in use or was not closed cleanly; stop the bot first", o.database, suffix)
		}
	}
	in, err := os.Open(o.backup)
	if err != nil {
		return sig, err
	}
	defer in.Close()
	err = writeAtomically(o.database, o.force, func(out *os.File) error {
		if sig, err = record.Decrypt(out, in, o.open); err != nil {
			return err
		}
		return checkDB(ctx, out.Name())
	})
	return sig, err
}

// checkDB checks a restored database before anything in it can run: first
// its schema against the bot's own, then SQLite's integrity check.
func checkDB(ctx context.Context, path string) error {
	want, err := referenceSchema(ctx)
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", immutableDSN(path))
	if err != nil {
		return err
	}
	defer db.Close()
	got, err := readSchema(ctx, db, &want)
	if err != nil {
		return fmt.Errorf("the backup is not a readable database: %w", err)
	}
	if err := checkSchema(got, want); err != nil {
		return err
	}
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("the backup is not a readable database: %w", err)
	}
	if !strings.EqualFold(result, "ok") {
		return fmt.Errorf("the backup's database is damaged: %s", result)
	}
	return nil
}

// parseSize reads a size such as 1GiB, 512MiB or 4096 (bytes).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40}} {
		if strings.HasSuffix(strings.ToLower(t), u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size; for example 1GiB, 512MiB or 4096 (bytes)", s)
	}
	return n * mult, nil
}

// checkTarget refuses to write to path if it is a symbolic link (never
// followed, whatever it points to), not a regular file, or exists and force
// is not set.
func checkTarget(path string, force bool) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; give the path of a real file (links are never followed)", path)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s exists and is not a regular file", path)
	case !force:
		return fmt.Errorf("%s already exists; add --force to replace it", path)
	}
	return nil
}

// writeAtomically has fill write a new file (mode 0600) in path's folder,
// then moves it to path in one step, so that path holds either what it held
// before or the whole new file, and a failure leaves nothing behind. The
// new file is created with O_EXCL, so it is never an existing file or
// link; it is put in place by rename with force (which replaces a file, or
// a link itself, never what a link points to) and by a hard link without,
// which fails if anything appeared at path meanwhile.
func writeAtomically(path string, force bool, fill func(*os.File) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename or link, nothing is there
	if err := fill(f); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := checkTarget(path, force); err != nil {
		return err
	}
	if force {
		err = os.Rename(tmp, path)
	} else if err = os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		err = fmt.Errorf("%s already exists; add --force to replace it", path)
	} else if err != nil {
		// A file system without hard links (FAT): path was checked just
		// above, so only a file made in the last instant would be replaced.
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}
