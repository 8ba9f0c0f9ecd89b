package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/migrate"
)

// Link is one short link.
type Link struct {
	Code    string    `json:"code"`
	URL     string    `json:"url"`
	Clicks  int64     `json:"clicks"`
	Created time.Time `json:"created_at"`
}

// store keeps links in the database named by DATABASE_URL.
type store struct {
	db     *sql.DB
	dollar bool // PostgreSQL binds $1, the others ?
}

// Errors the store returns.
var (
	errNotFound = errors.New("no link with that code")
	errTaken    = errors.New("that code is taken")
)

func openStore(ctx context.Context, databaseURL string) (*store, error) {
	engine, err := migrate.Engine(databaseURL)
	if err != nil {
		return nil, err
	}
	db, err := migrate.OpenDB(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	return &store{db: db, dollar: engine == "PostgreSQL"}, nil
}

// q rewrites ? bind parameters for PostgreSQL.
func (s *store) q(query string) string {
	if !s.dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// checkLink validates a URL and an optional code.
func checkLink(code, target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http or https URL", target)
	}
	if len(target) > 2048 {
		return fmt.Errorf("the URL is longer than 2048 characters")
	}
	if code != "" && !codeRE.MatchString(code) {
		return fmt.Errorf("code %q: use 1 to 32 letters, digits, - or _", code)
	}
	return nil
}

// create stores a link; an empty code gets a random one.
func (s *store) create(ctx context.Context, code, target string) (Link, error) {
	if err := checkLink(code, target); err != nil {
		return Link{}, err
	}
	l := Link{Code: code, URL: target, Created: time.Now().UTC().Truncate(time.Second)}
	for try := 0; ; try++ {
		if code == "" {
			l.Code = rand.Text()[:7]
		}
		_, err := s.db.ExecContext(ctx, s.q("INSERT INTO links (code, url, created_unix) VALUES (?, ?, ?)"), l.Code, l.URL, l.Created.Unix())
		if err == nil {
			return l, nil
		}
		if _, lookupErr := s.get(ctx, l.Code); lookupErr != nil {
			return Link{}, fmt.Errorf("store link: %w", err)
		}
		if code != "" || try == 5 {
			return Link{}, errTaken
		}
	}
}

func (s *store) get(ctx context.Context, code string) (Link, error) {
	var l Link
	var created int64
	err := s.db.QueryRowContext(ctx, s.q("SELECT code, url, clicks, created_unix FROM links WHERE code = ?"), code).
		Scan(&l.Code, &l.URL, &l.Clicks, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, errNotFound
	}
	l.Created = time.Unix(created, 0).UTC()
	return l, err
}

// visit counts a click and returns the link.
func (s *store) visit(ctx context.Context, code string) (Link, error) {
	if _, err := s.db.ExecContext(ctx, s.q("UPDATE links SET clicks = clicks + 1 WHERE code = ?"), code); err != nil {
		return Link{}, err
	}
	return s.get(ctx, code)
}

// recent returns the newest links first.
func (s *store) recent(ctx context.Context, limit int) ([]Link, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT code, url, clicks, created_unix FROM links ORDER BY created_unix DESC, code LIMIT ?"), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	links := []Link{}
	for rows.Next() {
		var l Link
		var created int64
		if err := rows.Scan(&l.Code, &l.URL, &l.Clicks, &created); err != nil {
			return nil, err
		}
		l.Created = time.Unix(created, 0).UTC()
		links = append(links, l)
	}
	return links, rows.Err()
}
