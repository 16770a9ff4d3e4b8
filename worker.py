"""Start one Hookboard worker: delivers queued runs. Never imports Reflex."""

from hookboard.worker_process import main

if __name__ == "__main__":
    main()
