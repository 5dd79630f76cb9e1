package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// TestServe_ShutdownUnderLoad stops the server while clients keep sending
// requests: every request that got an answer has its record in the log
// database afterwards.
func TestServe_ShutdownUnderLoad(t *testing.T) {
	s := startServer(t, nil)
	login := s.client(t)
	login.Login(adminEmail, adminPassword)
	var (
		mu       sync.Mutex
		answered = map[string]int{} // request id -> status
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			client := &http.Client{Jar: login.HTTP.Jar, Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(s.URL + "/api/projects")
				if err != nil {
					continue // refused while shutting down
				}
				resp.Body.Close()
				mu.Lock()
				answered[resp.Header.Get("X-Request-ID")] = resp.StatusCode
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	s.Stop(t) // while the clients keep going
	close(stop)
	wg.Wait()

	db, err := sqlite.Open(context.Background(), s.logDB(), sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logged := map[string]int{}
	for r, err := range db.Scan(context.Background(), sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}, Path: "/api/projects"}) {
		if err != nil {
			t.Fatal(err)
		}
		logged[r.RequestID] = r.Status
	}
	if len(answered) < 10 {
		t.Fatalf("only %d requests answered; the load did not run", len(answered))
	}
	for id, st := range answered {
		if got, ok := logged[id]; !ok || got != st {
			t.Errorf("request %s answered %d: logged %v %d", id, st, ok, got)
		}
	}
	t.Logf("%d requests answered during the run and shutdown, %d logged", len(answered), len(logged))
}
