"""Stores (门店): where orders are taken and coupons redeemed; staff may belong to one."""
