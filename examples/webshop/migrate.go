package main

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations are the schema's versions, one directory of SQL files per
// database, in the binary: the schema a shop runs with is the one it was
// built with.
//
//go:embed migrations
var migrations embed.FS

// migrate brings the database's schema up to the newest migration with
// goose, which records what it applied in its table goose_db_version. One
// process at a time does it: shop processes starting together wait for the
// first to finish, then find nothing left to do.
func migrate(ctx context.Context, db *sql.DB, d dialect, dsn string, log *slog.Logger) error {
	fsys, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		return err
	}
	locker, err := d.migrationLock(dsn)
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(d.goose, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	applied, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	for _, m := range applied {
		log.Info("database migrated", "version", m.Source.Version, "file", m.Source.Path, "took", m.Duration)
	}
	return nil
}

// postgresMigrationLock is PostgreSQL's advisory lock, as goose takes it,
// held by the connection that migrates. A process that finds it taken asks
// again every second, for up to 10 minutes.
func postgresMigrationLock(string) (lock.SessionLocker, error) {
	return lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
}

// sqliteMigrationLock is a lock for SQLite, which has no advisory locks:
// the write lock of a second SQLite file beside the database
// (webshop.db.migrations-lock), taken by a transaction that writes nothing.
// The operating system releases it when a process dies, so a shop that
// crashed while migrating does not leave the database locked.
type sqliteMigrationLock struct {
	path string
	db   *sql.DB
	tx   *sql.Tx
}

func newSQLiteMigrationLock(dsn string) (lock.SessionLocker, error) {
	path, _, _ := strings.Cut(dsn, "?")
	return &sqliteMigrationLock{path: strings.TrimPrefix(path, "file:") + ".migrations-lock"}, nil
}

// SessionLock waits up to a minute for the lock.
func (l *sqliteMigrationLock) SessionLock(ctx context.Context, _ *sql.Conn) error {
	db, err := sql.Open("sqlite", l.path+"?_pragma=busy_timeout(60000)&_txlock=immediate")
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the file's write lock
	if err != nil {
		db.Close()
		return fmt.Errorf("taking the migration lock %s: %w", l.path, err)
	}
	l.db, l.tx = db, tx
	return nil
}

// SessionUnlock releases the lock.
func (l *sqliteMigrationLock) SessionUnlock(context.Context, *sql.Conn) error {
	err := l.tx.Rollback()
	if cerr := l.db.Close(); err == nil {
		err = cerr
	}
	return err
}
