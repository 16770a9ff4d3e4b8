"""Start one Hookboard worker: delivers queued runs. Never imports Reflex."""

from hookboard.engine.worker import main

if __name__ == "__main__":
    main()
