// Package frameworks is the home of sidelog's adapters for web frameworks
// that are not plain net/http: echolog for echo and ginlog for gin. They
// live in a module of their own so that a service importing sidelog does
// not inherit either framework in its go.mod.
package frameworks
