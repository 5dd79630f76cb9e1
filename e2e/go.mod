module github.com/sidelog/sidelog/e2e

go 1.26.8

replace github.com/sidelog/sidelog => ../
