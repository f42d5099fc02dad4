from gridkit.cli import main

main()
