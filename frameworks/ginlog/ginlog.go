// Package ginlog connects gin (github.com/gin-gonic/gin) to sidelog's
// request middleware, httplog.
//
// httplog is plain net/http middleware and goes around the whole
// *gin.Engine (an http.Handler), so the request id, the timing and the
// panic recovery cover every gin middleware too. Only the route pattern
// ("GET /projects/:id") is known inside gin alone: Route hands it to
// httplog.
//
//	g := gin.New() // not gin.Default(): httplog writes the request record and recovers panics
//	g.Use(ginlog.Route())
//	srv := &http.Server{Handler: httplog.New(logger, httplog.Options{})(g)}
//
// To put the user on the request record, call sidelog.WithUser on the
// request's context in your authentication middleware (see the package
// example).
package ginlog

import (
	"github.com/gin-gonic/gin"

	"github.com/sidelog/sidelog/httplog"
)

// Route returns a gin middleware that records the route pattern of each
// request, "METHOD /path/:param", for httplog's request record (the
// http.route attribute). Requests no route matched keep an empty route.
func Route() gin.HandlerFunc {
	return func(c *gin.Context) {
		if p := c.FullPath(); p != "" {
			httplog.SetRoute(c.Request.Context(), c.Request.Method+" "+p)
		}
		c.Next()
	}
}
