// Command gohello prints one line and exits: the start-up floor of any Go
// program on the machine, next to which `telegraf-chrony --once` and
// `chronyc -c tracking` are timed.
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
