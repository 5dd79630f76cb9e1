package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"

	"github.com/sidelog/sidelog"
)

// AppID is the SQLite application_id (PRAGMA application_id) of every file
// sidelog writes, the catalog and the day files: "SLOG" in ASCII. A file
// with another application_id is not a sidelog file, and no sidelog
// command changes it. The user_version (PRAGMA user_version) of a file is
// the number of the last migration applied to it.
const AppID = 0x534c4f47

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// header is what sidelog reads of a SQLite file's 100-byte header.
type header struct {
	appID       uint32
	userVersion uint32
	bytes       int64 // the database's size by its header; 0 when unknown
}

// parseHeader reads the fields of a SQLite file header; see
// https://sqlite.org/fileformat.html#the_database_header.
func parseHeader(b []byte) header {
	h := header{
		appID:       binary.BigEndian.Uint32(b[68:]),
		userVersion: binary.BigEndian.Uint32(b[60:]),
	}
	pageSize := int64(binary.BigEndian.Uint16(b[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(b[28:]))
	// The in-header size is valid only when the version-valid-for number
	// matches the change counter.
	if pages > 0 && bytes.Equal(b[92:96], b[24:28]) {
		h.bytes = pages * pageSize
	}
	return h
}

// fileKind is what checkFile found at a path.
type fileKind int

const (
	fileMissing fileKind = iota // nothing there: a new database may be created
	fileOurs                    // a sidelog file, marked or from before the mark
	fileDamaged                 // sidelog's by its segment directory, but unreadable
)

// checkFile looks at the file at path before SQLite may touch it and
// refuses, with EINVALID and without changing it, anything that is not a
// sidelog catalog: a directory, a FIFO or device, an empty file, a file
// that is not SQLite, a truncated one, another application's database. A
// missing file is ENOTFOUND when mustExist. A catalog whose header is
// unreadable but whose segment directory holds day files is fileDamaged:
// it is ours, and Open sets it aside.
func checkFile(path string, mustExist bool) (fileKind, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if mustExist {
			return 0, sidelog.Errorf(sidelog.ENOTFOUND, "no log database at %s", path)
		}
		return fileMissing, nil
	case err != nil:
		return 0, sidelog.Errorf(sidelog.EINVALID, "cannot open %s: %v", path, errors.Unwrap(err))
	case st.IsDir():
		return 0, sidelog.Errorf(sidelog.EINVALID, "%s is a directory, not a log database", path)
	case !st.Mode().IsRegular():
		// Opening a FIFO would wait for a writer forever.
		return 0, sidelog.Errorf(sidelog.EINVALID, "%s is not a regular file (%s), not a log database", path, st.Mode().Type())
	case st.Size() == 0:
		return 0, sidelog.Errorf(sidelog.EINVALID,
			"%s is an empty file, not a log database (name a path that does not exist to create one)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, sidelog.Errorf(sidelog.EINVALID, "cannot open %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	b := make([]byte, 100)
	n, _ := io.ReadFull(f, b)
	damaged := func(err error) (fileKind, error) {
		if hasSegments(path + ".d") {
			return fileDamaged, nil
		}
		return 0, err
	}
	if !bytes.HasPrefix(b[:n], sqliteMagic) {
		return damaged(sidelog.Errorf(sidelog.EINVALID, "%s is not a SQLite database", path))
	}
	if n < len(b) {
		return damaged(sidelog.Errorf(sidelog.EINVALID, "%s is a truncated SQLite file (%d bytes), not a log database", path, n))
	}
	h := parseHeader(b)
	if h.bytes > st.Size() && !exists(path+"-wal") {
		return damaged(sidelog.Errorf(sidelog.EINVALID,
			"%s is truncated: %d bytes of the %d its header gives; not opened", path, st.Size(), h.bytes))
	}
	switch h.appID {
	case AppID:
		return fileOurs, nil
	case 0:
		if legacyCatalog(path) {
			return fileOurs, nil
		}
		return 0, sidelog.Errorf(sidelog.EINVALID, "%s is a SQLite database of another application, not a sidelog log database", path)
	}
	return 0, sidelog.Errorf(sidelog.EINVALID,
		"%s is a SQLite database of another application (application_id %#08x), not a sidelog log database", path, h.appID)
}

// legacyCatalog reports whether the unmarked SQLite file at path is a
// catalog written before sidelog marked its files: it has the catalog's
// tables. The file is read as immutable, so nothing is written to it or
// beside it (no lock, no WAL).
func legacyCatalog(path string) bool {
	h, err := sql.Open(driverName, "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return false
	}
	defer h.Close()
	var n int
	err = h.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table'
		AND name IN ('schema_migrations', 'segments', 'settings')`).Scan(&n)
	return err == nil && n == 3
}

// hasSegments reports whether dir holds at least one day file.
func hasSegments(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if _, ok := parseSegmentName(e.Name()); ok {
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// foreignSegment reports, with a reason, whether the day file at path is
// marked as another application's: it is then set aside, not written to.
func foreignSegment(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	b := make([]byte, 100)
	if n, _ := io.ReadFull(f, b); n < len(b) || !bytes.HasPrefix(b, sqliteMagic) {
		return "", false // SQLite reports what is wrong with it
	}
	if id := parseHeader(b).appID; id != 0 && id != AppID {
		return fmt.Sprintf("application_id %#08x is not sidelog's", id), true
	}
	return "", false
}
