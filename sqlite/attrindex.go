package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/sidelog/sidelog"
)

// The attribute index (attrs_fts) holds one document per row with
// attributes. Its tokens:
//
//   - k<hash of path> for every path present (a scalar's path and the
//     objects it is nested in): has:PATH, and a key's rows;
//   - v<hash of path and value> for every number, boolean and null:
//     order.total:100 finds its rows through one token;
//   - the words of every string value, each value preceded by its path's
//     k-token, so a phrase never runs from one value into the next:
//     email:alice@example.com is the phrase "alice example com", and a word
//     found only in the attributes is found by text search.
//
// Hash tokens are 48 bits in base 36 after a private-use character, which
// the tokenizer keeps as part of a word: no word a person types starts with
// one, so text search (prefixes included) never matches them, and a
// collision only adds a candidate that the row's attributes then reject.

// hashMark starts every hash token.
const hashMark = "\uE000"

// keyToken returns the token of a path's presence.
func keyToken(path string) string { return hashMark + "k" + hash36(path) }

// valueToken returns the token of a non-string scalar at path.
func valueToken(path, text string) string { return hashMark + "v" + hash36(path+"\x00"+text) }

func hash36(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64()>>16, 36)
}

// attrDoc returns the attribute index document of attrs and calls key for
// each path present (for the file's key counts). It returns "" when attrs
// has no scalar.
func attrDoc(attrs []byte, key func(path string)) string {
	var b strings.Builder
	sidelog.AttrPaths(attrs, func(p string) {
		b.WriteString(keyToken(p))
		b.WriteByte(' ')
		if key != nil {
			key(p)
		}
	})
	if b.Len() == 0 {
		return ""
	}
	sidelog.WalkAttrs(attrs, func(path string, v sidelog.AttrValue) bool {
		if v.Kind == sidelog.AttrString {
			b.WriteString(keyToken(path))
			b.WriteByte(' ')
			// The tokenizer splits on anything but letters and digits;
			// a NUL would end the text early in SQLite's C string APIs.
			b.WriteString(strings.ReplaceAll(v.Text, "\x00", " "))
			b.WriteByte(' ')
		} else {
			b.WriteString(valueToken(path, v.Text))
			b.WriteByte(' ')
		}
		return true
	})
	return b.String()
}

// MissingAttrs returns the attribute terms of f whose attribute no record
// in f's time range has (by the files' key counts), each with a suggested
// field when the key looks like one: lvl:warn asks for an attribute lvl,
// which is almost always a misspelt level:warn. Callers show it as a hint
// when a query finds little; it is not an error, since the attribute may
// simply not have been logged yet.
func (db *DB) MissingAttrs(ctx context.Context, f sidelog.Filter) ([]sidelog.MissingAttr, error) {
	terms := f.Expr.AttrTerms()
	if len(terms) == 0 {
		return nil, nil
	}
	f, ok := storableTimes(f)
	if !ok {
		return nil, nil
	}
	missing := map[string]bool{}
	for _, t := range terms {
		missing[t.Path] = true
	}
	defer db.afterRead(ctx)
	for _, s := range db.segmentsFor(f) {
		err := s.withReader(func(r queryer) error {
			for p, miss := range missing {
				if !miss {
					continue
				}
				var one int
				err := r.QueryRowContext(ctx, `SELECT 1 FROM attr_keys WHERE path = ?`, p).Scan(&one)
				if err == nil {
					missing[p] = false
				} else if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			return nil
		})
		if err = db.survive(s, err); err != nil {
			return nil, classify(fmt.Errorf("attribute keys of %s: %w", s.name(), err))
		}
	}
	var out []sidelog.MissingAttr
	for _, t := range terms {
		if missing[t.Path] {
			out = append(out, sidelog.NewMissingAttr(t))
			missing[t.Path] = false // once per path
		}
	}
	return out, nil
}
