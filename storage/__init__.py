"""Models, migrations and every query Hypobot makes; each query takes a team_id."""
