from ahsd_config.cli.app import main

main()
