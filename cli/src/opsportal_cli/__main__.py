from opsportal_cli.main import run

run()
