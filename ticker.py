"""Start one Hookboard ticker: claims due schedules and queues their runs."""

from hookboard.engine.ticker import main

if __name__ == "__main__":
    main()
