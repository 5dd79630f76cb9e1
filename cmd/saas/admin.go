package main

import (
	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/saas/web"
)

// adminPrefix is where the log admin UI is mounted.
const adminPrefix = "/admin"

// mountAdmin serves sidelog's admin UI under /admin/ behind the app's
// login: superusers and log viewers read the logs there.
func mountAdmin(app *web.Server, lg *logging) *admin.Handler {
	opts := cli.AdminOptions(lg.store)
	opts.Auth = app.AdminAuth()
	opts.Names = app.AdminNames()
	opts.Logger = lg.logger
	opts.Pipeline = lg.handler.Stats
	opts.Prefix = adminPrefix
	h := admin.New(opts)
	app.Mount(adminPrefix+"/", h)
	if servedHook != nil {
		servedHook(lg.store.Path(), app, h)
	}
	return h
}

// servedHook, when set (by tests, before any server starts), receives each
// server's app and admin UI with the path of its log database, so that
// tests can walk the routes the running routers serve.
var servedHook func(logDB string, app *web.Server, ui *admin.Handler)
