package layers

import "context"

// A store with read replicas (PostGIS's streaming standbys) sends reads
// to a replica that has replayed every change the store knows of, and to
// the primary otherwise. An editor's reads go to the primary always: a
// change it made through another process may not have reached this one
// yet, and an editor must not see the state before its own write.

type primaryKey struct{}

// ReadPrimary returns ctx marked so that a store's reads under it go to
// the primary database, never to a replica: the reads of an editor.
func ReadPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

// ReadsPrimary reports whether ReadPrimary marked ctx.
func ReadsPrimary(ctx context.Context) bool {
	b, _ := ctx.Value(primaryKey{}).(bool)
	return b
}

// Replica is how one read replica does, for /healthz.
type Replica struct {
	// Name is the replica's URL without its password.
	Name string `json:"name"`
	// Up: it answered the last check, and is a standby in recovery.
	Up bool `json:"up"`
	// Error says why it is not up.
	Error string `json:"error,omitempty"`
	// ReplayLSN is the WAL position it has replayed up to.
	ReplayLSN string `json:"replayLsn,omitempty"`
	// LagBytes is how far its replay is behind the primary's WAL.
	LagBytes int64 `json:"lagBytes"`
	// LagSeconds is how long ago the last transaction it replayed was
	// committed on the primary, while it is behind; 0 when caught up.
	LagSeconds float64 `json:"lagSeconds"`
	// Reads is how many reads it has been given.
	Reads int64 `json:"reads"`
}

// Replication is how a store with replicas does, for /healthz.
type Replication struct {
	// PrimaryReads is how many reads went to the primary, because they
	// were an editor's or because no replica had caught up.
	PrimaryReads int64     `json:"primaryReads"`
	Replicas     []Replica `json:"replicas"`
}
