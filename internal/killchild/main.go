// Command killchild is the process that the kill tests of packages sqlite
// and handler start and kill with SIGKILL at random points: it runs one
// maintenance command on a log database, or logs through the handler as
// fast as it can. The tests build it once, without the race detector, so
// that each of their 20 kills costs a normal process start.
//
//	killchild cleanup DB NOW POLICY-JSON
//	killchild purge DB USER ACTOR
//	killchild log DB LOGGER
//	killchild verify DB LOGGER ACKED
//	killchild check DB
//
// log prints "acked N" after each Flush: every record up to N is stored.
// verify checks, after a kill, that the database passes Check and holds
// the records 0 to ACKED of LOGGER, and prints how many it holds. check
// runs Check alone.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "killchild:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: killchild cleanup|purge|log|verify DB [ARGS]")
	}
	ctx := context.Background()
	mode, path := args[0], args[1]
	db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: mode != "log"})
	if err != nil {
		return err
	}
	defer db.Close()
	switch {
	case mode == "cleanup" && len(args) == 4:
		now, err := time.Parse(time.RFC3339Nano, args[2])
		if err != nil {
			return err
		}
		var pol sidelog.Retention
		if err := json.Unmarshal([]byte(args[3]), &pol); err != nil {
			return err
		}
		_, err = db.Cleanup(ctx, pol, now, false)
		return err
	case mode == "purge" && len(args) == 4:
		_, err := db.Purge(ctx, args[2], "", args[3])
		return err
	case mode == "log" && len(args) == 3:
		h := handler.New(db, &handler.Options{Logger: args[2]})
		l := slog.New(h)
		for i := 0; ; i++ {
			l.Info("crash loop", "i", i, "pad", "some text to make the row realistic in size")
			if i%500 == 499 {
				if err := h.Flush(ctx); err != nil {
					return err
				}
				fmt.Printf("acked %d\n", i)
			}
		}
	case mode == "check" && len(args) == 2:
		if probs, err := db.Check(ctx); err != nil || len(probs) > 0 {
			return fmt.Errorf("check: %v %v", probs, err)
		}
		return nil
	case mode == "verify" && len(args) == 4:
		return verify(ctx, db, args[2], args[3])
	}
	return fmt.Errorf("bad arguments %q", args)
}

// verify checks the database after a kill of a log child.
func verify(ctx context.Context, db *sqlite.DB, logger, ackedArg string) error {
	acked, err := strconv.Atoi(ackedArg)
	if err != nil {
		return err
	}
	if probs, err := db.Check(ctx); err != nil || len(probs) > 0 {
		return fmt.Errorf("check after the kill: %v %v", probs, err)
	}
	seen := map[int]bool{}
	for r, err := range db.Scan(ctx, sidelog.Filter{Logger: logger}) {
		if err != nil {
			return err
		}
		var a struct{ I int }
		if err := json.Unmarshal(r.Attrs, &a); err != nil {
			return err
		}
		seen[a.I] = true
	}
	for i := 0; i <= acked; i++ {
		if !seen[i] {
			return fmt.Errorf("record %d was confirmed by Flush (up to %d) but is missing (%d stored)", i, acked, len(seen))
		}
	}
	fmt.Printf("%d stored\n", len(seen))
	return nil
}
