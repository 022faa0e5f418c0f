"""Layer 8, the `ahsd-config` command line: `app` builds the Typer app and maps errors to exit
codes; `validate`, `migrate`, `gate`, `global_options` hold the commands; `help` the plain
`--help` metavars. The entry point is `ahsd_config.cli.app:main`."""
