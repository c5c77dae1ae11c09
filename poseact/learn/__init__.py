"""Learning: the paper's CNN-LSTM and alternatives, hyperparameters, augmentation, training, evaluation, export,
reports and plots.
"""
