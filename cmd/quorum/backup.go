package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"
	_ "modernc.org/sqlite"

	"quorum/config"
	"quorum/record"
	"quorum/store"
)

func exportCommand() *cobra.Command {
	var cfgPath, outPath string
	var recipients []string
	var includeCrypto bool
	cmd := &cobra.Command{
		Use:   "export --config FILE --to KEY.asc [--to KEY.asc ...] -o BACKUP.pgp",
		Short: "Write an encrypted snapshot of the bot's whole state",
		Long: "Take a consistent snapshot of the database (safe while the bot runs) and encrypt it\n" +
			"to the given OpenPGP public keys: each recipient can restore it alone, with\n" +
			"`quorum import` or `gpg --decrypt`. The bot's encryption keys and login session are\n" +
			"left out unless --include-crypto is given.",
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
			if includeCrypto {
				fmt.Fprintln(cmd.ErrOrStderr(), "Warning: this export includes the bot's encryption keys and login session. "+
					"Anyone who can decrypt it can read what members send the bot and act as the bot. Keep it as safe as the server.")
			}
			if err := export(cmd.Context(), cfg.Database, outPath, keys, includeCrypto); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s, encrypted to %d key(s).\n", outPath, len(keys))
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "the bot's configuration file")
	cmd.Flags().StringArrayVar(&recipients, "to", nil, "a recipient's armored public key (repeat for several)")
	cmd.Flags().StringVarP(&outPath, "output", "o", "", "where to write the encrypted backup")
	cmd.Flags().BoolVar(&includeCrypto, "include-crypto", false, "also export the bot's encryption keys and session (dangerous)")
	return cmd
}

// cryptoTables is the prefix of mautrix's crypto store tables, which an
// export leaves out by default together with the bot's login session.
const cryptoTables = "crypto_"

func export(ctx context.Context, database, outPath string, keys openpgp.EntityList, includeCrypto bool) error {
	tmp, err := os.MkdirTemp(filepath.Dir(outPath), ".quorum-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	snapshot := filepath.Join(tmp, "quorum.db")
	if err := snapshotDB(ctx, database, snapshot, includeCrypto); err != nil {
		return err
	}
	in, err := os.Open(snapshot)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := record.Encrypt(out, in, keys, "quorum.db"); err != nil {
		_ = out.Close()
		_ = os.Remove(outPath)
		return err
	}
	return out.Close()
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
	var keyPath, database, passphraseEnv string
	cmd := &cobra.Command{
		Use:   "import BACKUP.pgp --key SECRET.asc --database NEW.db",
		Short: "Restore an encrypted snapshot into a new database file",
		Long: "Decrypt a backup made by `quorum export` with your OpenPGP secret key and write\n" +
			"it to a database path that does not exist yet. The key's passphrase, if any, is\n" +
			"read from the environment variable named by --passphrase-env.",
		Example: "  QUORUM_KEY_PASSPHRASE=... quorum import backup.pgp --key alice-secret.asc --database /var/lib/quorum/quorum.db",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("import takes one BACKUP file; for example: quorum import backup.pgp --key my-secret.asc --database new.db")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" || database == "" {
				return usageError{errors.New("import needs --key and --database; for example: quorum import backup.pgp --key my-secret.asc --database new.db")}
			}
			key, err := os.ReadFile(keyPath)
			if err != nil {
				return err
			}
			if err := importBackup(args[0], key, os.Getenv(passphraseEnv), database); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored %s into %s. Point the bot's `database` at it to use it.\n", args[0], database)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "your armored OpenPGP secret key")
	cmd.Flags().StringVar(&database, "database", "", "the new database file to create")
	cmd.Flags().StringVar(&passphraseEnv, "passphrase-env", "QUORUM_KEY_PASSPHRASE", "environment variable holding the key's passphrase")
	return cmd
}

// importBackup decrypts backup into a new file beside database, checks that
// it is a sound SQLite database, and only then moves it into place: a wrong
// key or a damaged file leaves nothing behind.
func importBackup(backup string, key []byte, passphrase, database string) error {
	if _, err := os.Stat(database); err == nil {
		return fmt.Errorf("%s already exists; import only into a new path", database)
	}
	in, err := os.Open(backup)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(database), ".quorum-import-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	if err := record.Decrypt(tmp, in, key, passphrase); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := checkDB(tmp.Name()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), database)
}

func checkDB(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var result string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("the backup is not a readable database: %w", err)
	}
	if !strings.EqualFold(result, "ok") {
		return fmt.Errorf("the backup's database is damaged: %s", result)
	}
	return nil
}
