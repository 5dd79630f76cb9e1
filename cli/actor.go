package cli

import (
	"os"
	"os/user"
	"strconv"
)

// actor names who runs the command, for the security events of export and
// purge: "cli:" and $USER, or $LOGNAME, or the account of the process's
// user id (containers and CI often set neither variable), or the bare uid
// when the account has no name.
func (c *CLI) actor() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := c.Getenv(k); v != "" {
			return "cli:" + v
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli:uid " + strconv.Itoa(os.Getuid())
}
