package store_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
)

// fixture is two users in two organisations, and a member in the first.
type fixture struct {
	db                      *store.DB
	alice, bob, carol       *saas.User // alice owns orgA, bob owns orgB, carol is a member of orgA
	orgA, orgB              *saas.Org
	asAlice, asBob, asCarol context.Context
}

func mustFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: storetest.MustOpen(t, dialect)}
	mk := func(email string) *saas.User {
		u := &saas.User{Email: email}
		if err := f.db.CreateUser(ctx, u, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.alice, f.bob, f.carol = mk("Alice@Example.com"), mk("bob@example.com"), mk("carol@example.com")
	f.orgA, f.orgB = &saas.Org{Name: "A"}, &saas.Org{Name: "B"}
	if err := f.db.CreateOrg(ctx, f.orgA, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateOrg(ctx, f.orgB, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	f.asAlice, f.asBob, f.asCarol = saas.NewContext(ctx, f.alice), saas.NewContext(ctx, f.bob), saas.NewContext(ctx, f.carol)
	if err := f.db.AddMember(f.asBob, f.orgA.ID, f.carol.ID, saas.RoleMember); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Fatalf("bob adds to orgA: got %v, want not_found", err)
	}
	if err := f.db.AddMember(f.asAlice, f.orgA.ID, f.carol.ID, saas.RoleMember); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDB(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, dialect)
			t.Run("Users", f.testUsers)
			t.Run("Projects", f.testProjects)
			t.Run("Sessions", f.testSessions)
			t.Run("Tables", f.testTables)
		})
	}
}

func (f *fixture) testUsers(t *testing.T) {
	ctx := context.Background()
	if f.alice.Email != "alice@example.com" || f.alice.Name != "alice" {
		t.Errorf("got %q %q, want normalised email and default name", f.alice.Email, f.alice.Name)
	}
	if err := f.db.CreateUser(ctx, &saas.User{Email: "ALICE@example.com"}, "another password"); saas.ErrorCode(err) != saas.ECONFLICT {
		t.Errorf("duplicate email: got %v, want conflict", err)
	}
	if err := f.db.CreateUser(ctx, &saas.User{Email: "not an email"}, "another password"); saas.ErrorCode(err) != saas.EINVALID {
		t.Errorf("bad email: got %v, want invalid", err)
	}
	if err := f.db.CreateUser(ctx, &saas.User{Email: "short@example.com"}, "short"); saas.ErrorCode(err) != saas.EINVALID {
		t.Errorf("short password: got %v, want invalid", err)
	}
	u, err := f.db.Authenticate(ctx, " alice@EXAMPLE.com", "correct horse battery")
	if err != nil || u.ID != f.alice.ID {
		t.Errorf("authenticate: got %v, %v", u, err)
	}
	for _, c := range [][2]string{{"alice@example.com", "wrong password"}, {"nobody@example.com", "correct horse battery"}} {
		if _, err := f.db.Authenticate(ctx, c[0], c[1]); saas.ErrorCode(err) != saas.EUNAUTHORIZED {
			t.Errorf("authenticate %q: got %v, want unauthorized", c[0], err)
		}
	}
	ms, err := f.db.Memberships(ctx, f.carol.ID)
	if err != nil || len(ms) != 1 || ms[0].OrgID != f.orgA.ID || ms[0].Role != saas.RoleMember {
		t.Errorf("carol's memberships: got %+v, %v", ms, err)
	}
}

func (f *fixture) testProjects(t *testing.T) {
	p := &saas.Project{OrgID: f.orgA.ID, Name: "  Robert'); DROP TABLE projects;-- ", BudgetCents: 1234}
	if err := f.db.CreateProject(f.asCarol, p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "Robert'); DROP TABLE projects;--" || p.Status != saas.StatusPlanned || p.OwnerID != f.carol.ID {
		t.Errorf("created %+v", p)
	}
	if err := f.db.CreateProject(f.asBob, &saas.Project{OrgID: f.orgA.ID, Name: "intruder"}); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Errorf("bob creates in orgA: got %v, want not_found", err)
	}
	if err := f.db.CreateProject(f.asAlice, &saas.Project{OrgID: f.orgA.ID, Name: "x", OwnerID: f.bob.ID}); saas.ErrorCode(err) != saas.EINVALID {
		t.Errorf("owner outside org: got %v, want invalid", err)
	}
	got, err := f.db.FindProjectByID(f.asAlice, p.ID)
	if err != nil || got.Name != p.Name || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("alice finds: got %+v, %v; want %+v", got, err, p)
	}
	if _, err := f.db.FindProjectByID(f.asBob, p.ID); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Errorf("bob finds: got %v, want not_found", err)
	}
	if ps, err := f.db.FindProjects(f.asBob, saas.ProjectFilter{}); err != nil || len(ps) != 0 {
		t.Errorf("bob lists: got %d, %v; want none", len(ps), err)
	}
	if ps, err := f.db.FindProjects(f.asAlice, saas.ProjectFilter{OrgID: f.orgA.ID, Status: saas.StatusPlanned}); err != nil || len(ps) != 1 {
		t.Errorf("alice lists: got %d, %v; want 1", len(ps), err)
	}
	status, name := saas.StatusActive, "renamed"
	up, err := f.db.UpdateProject(f.asCarol, p.ID, saas.ProjectUpdate{Status: &status, Name: &name})
	if err != nil || up.Status != status || up.Name != name || up.BudgetCents != 1234 {
		t.Errorf("update: got %+v, %v", up, err)
	}
	if _, err := f.db.UpdateProject(f.asBob, p.ID, saas.ProjectUpdate{Name: &name}); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Errorf("bob updates: got %v, want not_found", err)
	}
	bad := saas.Status("gone")
	if _, err := f.db.UpdateProject(f.asAlice, p.ID, saas.ProjectUpdate{Status: &bad}); saas.ErrorCode(err) != saas.EINVALID {
		t.Errorf("bad status: got %v, want invalid", err)
	}
	if err := f.db.DeleteProject(f.asCarol, p.ID); saas.ErrorCode(err) != saas.EFORBIDDEN {
		t.Errorf("member deletes: got %v, want forbidden", err)
	}
	if err := f.db.DeleteProject(f.asBob, p.ID); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Errorf("bob deletes: got %v, want not_found", err)
	}
	if err := f.db.DeleteProject(f.asAlice, p.ID); err != nil {
		t.Errorf("owner deletes: %v", err)
	}
	if _, err := f.db.FindProjectByID(f.asAlice, p.ID); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Errorf("after delete: got %v, want not_found", err)
	}
}

func (f *fixture) testSessions(t *testing.T) {
	ctx := context.Background()
	token, s, err := f.db.CreateSession(ctx, f.alice.ID, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.db.FindSession(ctx, token)
	if err != nil || got.UserID != f.alice.ID || got.CSRFToken != s.CSRFToken || len(token) < 40 {
		t.Errorf("find session: got %+v, %v", got, err)
	}
	if err := f.db.DeleteSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.FindSession(ctx, token); saas.ErrorCode(err) != saas.EUNAUTHORIZED {
		t.Errorf("after delete: got %v, want unauthorized", err)
	}
	expired, _, _ := f.db.CreateSession(ctx, f.alice.ID, -1)
	if _, err := f.db.FindSession(ctx, expired); saas.ErrorCode(err) != saas.EUNAUTHORIZED {
		t.Errorf("expired: got %v, want unauthorized", err)
	}
}

func (f *fixture) testTables(t *testing.T) {
	got, err := f.db.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"audit_chain_head", "log_viewers", "memberships", "orgs", "projects", "schema_migrations", "sessions", "sidelog_audit_outbox", "signups", "users"}
	if f.db.Dialect() == store.SQLite {
		want = slices.Insert(want, 7, "sidelog_audit_context")
	}
	if !slices.Equal(got, want) {
		t.Errorf("tables: got %v, want %v", got, want)
	}
	if applied, err := f.db.Migrate(context.Background()); err != nil || len(applied) != 0 {
		t.Errorf("second migrate: applied %v, %v; want nothing", applied, err)
	}
}

func TestMain(m *testing.M) {
	saas.PBKDF2Iterations = 1000 // see its doc comment
	os.Exit(m.Run())
}
