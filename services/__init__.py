"""The five loopcrm services; each package is independent and imports only ``shared``."""
