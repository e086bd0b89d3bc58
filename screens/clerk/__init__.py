"""The clerk desk's screens: PIN unlock, the receiving counter, the dispatch counter."""
