from {{ cookiecutter.package_name }}.cli import main

raise SystemExit(main())
