package sqlite

import (
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
