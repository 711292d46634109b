"""Agents of the flywheel marketplace model.

Customers, sellers and advertisers keep their state in columns and decide
vectorised (see each module); the Mesa agent classes here are their public
face in ``model.agents`` (sellers, advertisers, the assistant, the rival, the
platform's retail arm, fulfilment centres and delivery stations).
"""

from agents.advertiser import Advertiser
from agents.assistant import Assistant
from agents.customer import Customer
from agents.facility import DeliveryStation, FulfilmentCentre
from agents.rival import Rival
from agents.seller import PlatformRetail, Seller

__all__ = [
    "Advertiser",
    "Assistant",
    "Customer",
    "DeliveryStation",
    "FulfilmentCentre",
    "PlatformRetail",
    "Rival",
    "Seller",
]
