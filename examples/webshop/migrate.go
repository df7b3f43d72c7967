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
// first to finish, then find nothing left to do. On PostgreSQL goose takes
// an advisory lock; SQLite has none, and the shop locks a file of its own
// (sqliteMigrationLock) before it first connects to the database.
func migrate(ctx context.Context, db *sql.DB, d dialect, dsn string, log *slog.Logger) error {
	fsys, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	switch d.name {
	case "postgres":
		// Asked again every second, for up to 10 minutes, while another
		// process holds it.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case "sqlite":
		unlock, err := sqliteMigrationLock(ctx, dsn)
		if err != nil {
			return err
		}
		defer unlock()
	}
	provider, err := goose.NewProvider(d.goose, db, fsys, opts...)
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

// sqliteMigrationLock takes a lock for migrating the SQLite database dsn
// names, waiting up to a minute for it, and returns how to release it.
// SQLite has no advisory locks: the lock is the write lock of a second
// SQLite file beside the database (webshop.db.migrations-lock), taken by a
// transaction that writes nothing. The operating system releases it when a
// process dies, so a shop that crashed while migrating leaves nothing
// locked. It is taken before the process first connects to the database:
// a new database's first connections switch it to WAL, which processes
// doing it at once could fail at.
func sqliteMigrationLock(ctx context.Context, dsn string) (unlock func(), err error) {
	path, _, _ := strings.Cut(dsn, "?")
	path = strings.TrimPrefix(path, "file:") + ".migrations-lock"
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(60000)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the file's write lock
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("taking the migration lock %s: %w", path, err)
	}
	return func() {
		_ = tx.Rollback() // nothing was written
		db.Close()
	}, nil
}
