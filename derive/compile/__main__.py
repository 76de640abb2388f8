from derive.compile.generate import main

raise SystemExit(main())
