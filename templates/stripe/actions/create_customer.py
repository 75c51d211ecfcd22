from nango_scripts import NangoAction, action

from ..models import CreateCustomerInput, CreateCustomerOutput


def form_fields(input: CreateCustomerInput) -> dict[str, str]:
    """The input as Stripe's form encoding: nested keys become `address[city]`, `metadata[k]`."""
    fields: dict[str, str] = {}
    for key, value in input.model_dump(exclude_none=True).items():
        if isinstance(value, dict):
            fields.update({f"{key}[{sub}]": str(v) for sub, v in value.items()})
        else:
            fields[key] = str(value)
    return fields


@action(
    name="create-customer",
    input=CreateCustomerInput,
    output=CreateCustomerOutput,
    scopes=["write"],
    description="Create a customer in Stripe.",
    version="1.0.0",
)
async def create_customer(nango: NangoAction, input: CreateCustomerInput) -> CreateCustomerOutput:
    # https://docs.stripe.com/api/customers/create
    response = await nango.post("/v1/customers", data=form_fields(input))
    return CreateCustomerOutput.model_validate(response.json())
