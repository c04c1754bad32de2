"""`python -m quantdesk`: the same CLI as the `quantdesk` command."""

from quantdesk.cli import main

main()
