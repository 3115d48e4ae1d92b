package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Pool is the part of a connection pool the adapter uses. *pgxpool.Pool
// satisfies it, and so does the small pool Open builds. Implementations must be
// safe for concurrent use; a transaction returned by Begin holds its connection
// until Commit or Rollback.
type Pool interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// errPoolClosed is returned by connPool once Close has been called.
var errPoolClosed = errors.New("postgres: pool closed")

// connPool is a minimal pool of *pgx.Conn used by Open. It exists so the
// adapter needs nothing beyond the pgx module already in go.mod (pgxpool
// would pull in puddle). Broken connections are discarded on release, so a
// terminated backend is replaced by a fresh connection on the next acquire.
type connPool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{}  // one token per open connection, idle or busy
	idle  chan *pgx.Conn // idle connections
	done  chan struct{}  // closed by Close
	once  sync.Once
}

func newConnPool(cfg *pgx.ConnConfig, size int) *connPool {
	return &connPool{
		cfg:   cfg,
		slots: make(chan struct{}, size),
		idle:  make(chan *pgx.Conn, size),
		done:  make(chan struct{}),
	}
}

func (p *connPool) acquire(ctx context.Context) (*pgx.Conn, error) {
	for {
		select {
		case <-p.done:
			return nil, errPoolClosed
		default:
		}
		select {
		case c := <-p.idle:
			if c.IsClosed() {
				<-p.slots
				continue
			}
			return c, nil
		default:
		}
		select {
		case c := <-p.idle:
			if c.IsClosed() {
				<-p.slots
				continue
			}
			return c, nil
		case p.slots <- struct{}{}:
			c, err := pgx.ConnectConfig(ctx, p.cfg)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return c, nil
		case <-p.done:
			return nil, errPoolClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// release returns c to the pool, or closes it when it is broken, inside a
// transaction, or the pool is closed.
func (p *connPool) release(c *pgx.Conn) {
	healthy := !c.IsClosed() && c.PgConn().TxStatus() == 'I'
	select {
	case <-p.done:
		healthy = false
	default:
	}
	if healthy {
		select {
		case p.idle <- c:
			return
		default:
		}
	}
	_ = c.Close(context.Background())
	<-p.slots
}

// Close closes idle connections and makes later acquires fail; busy
// connections are closed when released.
func (p *connPool) Close() {
	p.once.Do(func() { close(p.done) })
	for {
		select {
		case c := <-p.idle:
			_ = c.Close(context.Background())
			<-p.slots
		default:
			return
		}
	}
}

// Begin starts a transaction on a connection held until Commit or Rollback.
func (p *connPool) Begin(ctx context.Context) (pgx.Tx, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		p.release(c)
		return nil, err
	}
	return &poolTx{Tx: tx, pool: p, conn: c}, nil
}

// Exec runs sql on any connection.
func (p *connPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer p.release(c)
	return c.Exec(ctx, sql, args...)
}

// Query runs sql; the connection returns to the pool when the rows are closed.
func (p *connPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		p.release(c)
		return nil, err
	}
	return &poolRows{Rows: rows, pool: p, conn: c}, nil
}

// QueryRow runs sql; the connection returns to the pool when the row is scanned.
func (p *connPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := p.Query(ctx, sql, args...)
	return &poolRow{rows: rows, err: err}
}

type poolTx struct {
	pgx.Tx
	pool *connPool
	conn *pgx.Conn
	once sync.Once
}

func (t *poolTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.once.Do(func() { t.pool.release(t.conn) })
	return err
}

func (t *poolTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.once.Do(func() { t.pool.release(t.conn) })
	return err
}

type poolRows struct {
	pgx.Rows
	pool *connPool
	conn *pgx.Conn
	once sync.Once
}

func (r *poolRows) Close() {
	r.Rows.Close()
	r.once.Do(func() { r.pool.release(r.conn) })
}

type poolRow struct {
	rows pgx.Rows
	err  error
}

func (r *poolRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
