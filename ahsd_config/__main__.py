from ahsd_config.cli import main

main()
