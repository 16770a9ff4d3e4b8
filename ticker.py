"""Start one Hookboard ticker: claims due schedules and queues their runs."""

from hookboard.ticker_process import main

if __name__ == "__main__":
    main()
