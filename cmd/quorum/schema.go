package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/sqlstatestore"

	"quorum/store"
)

// A restored database is opened by the bot, which then runs whatever its
// schema holds: a trigger or a view planted in a backup would run with the
// bot's data (a trigger on the secret ballots could copy each voter next to
// their choice). So an import accepts only the schema objects that the bot's
// own migrations make, exactly: Quorum's (store/upgrades), mautrix's state
// store and its crypto store, whose tables (crypto_*) an export leaves out
// unless --include-crypto is given. Nothing in a backup's database runs
// before this check passes.

// schemaObject is one row of sqlite_schema.
type schemaObject struct{ Type, Name, Table, SQL string }

func (o schemaObject) String() string { return fmt.Sprintf("%s %q", o.Type, o.Name) }

// cryptoObject says whether o belongs to mautrix's crypto store, which an
// export leaves out by default.
func (o schemaObject) cryptoObject() bool { return strings.HasPrefix(o.Table, cryptoTables) }

// versionTables are the tables in which the migrations note how far they
// ran: a backup from another version of Quorum or mautrix differs there
// first, and is told so in those words.
var versionTables = []string{"quorum_version", sqlstatestore.VersionTableName, "crypto_version"}

// dbSchema is what the check compares: every schema object, by name, and
// the rows of the version tables.
type dbSchema struct {
	objects  map[string]schemaObject
	versions map[string]string
}

// readSchema reads db's schema objects and, for each version table whose
// definition is the reference's (nil: the reference itself), its rows: a
// plain table whose shape is known, so that reading it runs nothing else.
func readSchema(ctx context.Context, db *sql.DB, reference *dbSchema) (dbSchema, error) {
	s := dbSchema{objects: map[string]schemaObject{}, versions: map[string]string{}}
	rows, err := db.QueryContext(ctx, "SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_schema")
	if err != nil {
		return s, fmt.Errorf("read the schema: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.Type, &o.Name, &o.Table, &o.SQL); err != nil {
			return s, fmt.Errorf("read the schema: %w", err)
		}
		s.objects[o.Name] = o
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("read the schema: %w", err)
	}
	for _, t := range versionTables {
		o, ok := s.objects[t]
		if !ok || o.Type != "table" || (reference != nil && reference.objects[t] != o) {
			continue
		}
		var v string
		q := fmt.Sprintf("SELECT COALESCE(group_concat(version || '/' || COALESCE(compat, ''), ','), '') FROM (SELECT version, compat FROM %q ORDER BY version)", t)
		if err := db.QueryRowContext(ctx, q).Scan(&v); err != nil {
			return s, fmt.Errorf("read %s: %w", t, err)
		}
		s.versions[t] = v
	}
	return s, nil
}

// referenceSchema builds a fresh database with the bot's migrations in a
// temporary folder and reads its schema.
func referenceSchema(ctx context.Context) (dbSchema, error) {
	dir, err := os.MkdirTemp("", "quorum-schema-")
	if err != nil {
		return dbSchema{}, err
	}
	defer os.RemoveAll(dir)
	st, err := createBotDatabase(ctx, filepath.Join(dir, "reference.db"))
	if err != nil {
		return dbSchema{}, err
	}
	defer st.Close()
	return readSchema(ctx, st.DB.RawDB, nil)
}

// createBotDatabase opens (creating and upgrading) a database with every
// schema the bot makes in it: Quorum's, and mautrix's state and crypto
// stores, as bot.login has mautrix's crypto helper make them.
func createBotDatabase(ctx context.Context, path string) (*store.Store, error) {
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	nop := dbutil.ZeroLogger(zerolog.Nop())
	if err := sqlstatestore.NewSQLStateStore(st.DB, nop, false).Upgrade(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("state store: %w", err)
	}
	if err := crypto.NewSQLCryptoStore(st.DB, nop, "", "", []byte("reference")).DB.Upgrade(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("crypto store: %w", err)
	}
	return st, nil
}

// checkSchema refuses a database whose schema objects differ from want's:
// each object must be one of want's, with the same type, table and SQL, and
// each of want's must be there, except that the crypto store's may all be
// absent. A backup made by another version is told so first.
func checkSchema(got, want dbSchema) error {
	for _, t := range versionTables {
		if g, ok := got.versions[t]; ok && g != want.versions[t] {
			return fmt.Errorf("the backup's database was made by another version of Quorum (%s holds %s, this quorum makes %s): import it with the version that made it, then run the new version on it", t, g, want.versions[t])
		}
	}
	withCrypto := false
	for _, o := range got.objects {
		withCrypto = withCrypto || o.cryptoObject()
	}
	var extra, changed, missing []string
	for _, name := range slices.Sorted(maps.Keys(got.objects)) {
		g := got.objects[name]
		w, ok := want.objects[name]
		switch {
		case !ok:
			extra = append(extra, g.String())
		case g != w:
			changed = append(changed, g.String())
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want.objects)) {
		w := want.objects[name]
		if _, ok := got.objects[name]; !ok && (withCrypto || !w.cryptoObject()) {
			missing = append(missing, w.String())
		}
	}
	var problems []string
	if len(extra) > 0 {
		problems = append(problems, "it has "+strings.Join(extra, ", ")+", which Quorum never makes")
	}
	if len(changed) > 0 {
		problems = append(problems, strings.Join(changed, ", ")+" differ from what Quorum makes")
	}
	if len(missing) > 0 {
		problems = append(problems, "it lacks "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("the backup's database is not one that Quorum makes, so it is refused (forged?): %s", strings.Join(problems, "; "))
	}
	return nil
}
