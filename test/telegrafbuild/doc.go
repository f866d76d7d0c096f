// Package telegrafbuild builds Telegraf itself with the plugin compiled in,
// as a Telegraf packager would: a release's source, one file in
// plugins/inputs/all importing plugins/inputs/chrony_tracking, a replace of
// this repository, and `go build -mod=mod -tags custom,...`. Its test checks
// that the build changes Telegraf's go.mod by no more than the root module's
// own requirements ask for, and that `telegraf --test` gathers a correct
// point with [[inputs.chrony_tracking]].
package telegrafbuild
