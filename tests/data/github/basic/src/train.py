import mlflow


def main():
    with mlflow.start_run():
        mlflow.log_metric("accuracy", 0.93)


if __name__ == "__main__":
    main()
