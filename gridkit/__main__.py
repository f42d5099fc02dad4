from gridkit.entry import main

main()
