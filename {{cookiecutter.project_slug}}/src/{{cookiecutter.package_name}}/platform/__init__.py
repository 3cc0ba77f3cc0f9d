"""Local tooling around the pipeline, not part of it.

- ``stack.py``: runs MLflow and Airflow on one machine (``<slug> stack ...``).
- ``mlflow_server.py``: MLflow's tracking server in one process.
- ``airflow_api.py``: triggers and follows DAG runs through Airflow's REST API.

Nothing in the ML code imports this folder (an import-linter contract checks
it): a team that runs its own Airflow and MLflow can delete it, and the CLI
then simply has no ``stack`` or ``trigger`` commands.
"""
