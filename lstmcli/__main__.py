from lstmcli.cli.main import main

main()
